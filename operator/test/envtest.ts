/* eslint-disable @typescript-eslint/no-explicit-any -- Kubernetes objects and HTTP bodies are read as untyped JSON in tests. */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import yaml from 'js-yaml';
import { freePort, repoRoot, spawnProcess, waitFor, type ManagedProcess } from '../../services/kit/testing/processes';
import { HttpKubeClient, loadKubeConfig, type KubeObject } from '../runtime/kube';

/**
 * controller-runtime's envtest for the operator: a real etcd and kube-apiserver on loopback (no kubelet, no
 * controller-manager), a kubeconfig for an admin token, and the CRDs from crds/ installed.
 */

export interface ToolPaths {
  etcd: string;
  kubeApiserver: string;
}

function readVersions(): Record<string, string> {
  const text = fs.readFileSync(path.join(repoRoot, 'scripts/envtest/versions.env'), 'utf8');
  return Object.fromEntries(
    text
      .split('\n')
      .filter((line) => /^[A-Z_]+=/.test(line))
      .map((line) => line.split('=', 2) as [string, string]),
  );
}

/** The binaries scripts/install-tools.sh caches, or a reason why the suite cannot run. */
export function findTools(): { tools?: ToolPaths; missing?: string } {
  const versions = readVersions();
  const root = process.env.METRICSTREAM_TOOLS ?? path.join(os.homedir(), '.cache/metricstream-tools');
  const tools = {
    etcd: path.join(root, `etcd-${versions.ETCD_VERSION}`, 'etcd'),
    kubeApiserver: path.join(root, `kube-apiserver-${versions.KUBERNETES_VERSION}`, 'kube-apiserver'),
  };
  const absent = Object.values(tools).filter((tool) => !fs.existsSync(tool));
  if (absent.length > 0) return { missing: `${absent.join(', ')} not built; run scripts/install-tools.sh` };
  return { tools };
}

export interface EnvTest {
  dir: string;
  kubeconfigPath: string;
  client: HttpKubeClient;
  /** Raw authenticated request, for what the operator's client does not expose (e.g. the scale subresource). */
  request(
    method: string,
    urlPath: string,
    body?: unknown,
    contentType?: string,
  ): Promise<{ status: number; body: any }>;
  stop(): Promise<void>;
}

function makeCertificates(dir: string): void {
  const run = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  run([
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'ca.key',
    '-out',
    'ca.crt',
    '-days',
    '2',
    '-subj',
    '/CN=envtest-ca',
  ]);
  fs.writeFileSync(
    path.join(dir, 'serving.ext'),
    'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n',
  );
  run([
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'serving.key',
    '-out',
    'serving.csr',
    '-subj',
    '/CN=127.0.0.1',
  ]);
  run([
    'x509',
    '-req',
    '-in',
    'serving.csr',
    '-CA',
    'ca.crt',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    'serving.crt',
    '-days',
    '2',
    '-extfile',
    'serving.ext',
  ]);
  run(['genrsa', '-out', 'sa.key', '2048']);
  run(['rsa', '-in', 'sa.key', '-pubout', '-out', 'sa.pub']);
}

export async function startEnvTest(tools: ToolPaths): Promise<EnvTest> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'metricstream-envtest-'));
  makeCertificates(dir);
  const token = 'envtest-admin-token';
  fs.writeFileSync(path.join(dir, 'tokens.csv'), `${token},admin,admin-uid,"system:masters"\n`);

  const [clientPort, peerPort, apiPort] = [await freePort(), await freePort(), await freePort()];
  const processes: ManagedProcess[] = [];
  const stopAll = async () => {
    for (const running of processes.reverse()) await running.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    processes.push(
      await spawnProcess(
        'etcd',
        tools.etcd,
        [
          '--data-dir',
          path.join(dir, 'etcd'),
          '--listen-client-urls',
          `http://127.0.0.1:${clientPort}`,
          '--advertise-client-urls',
          `http://127.0.0.1:${clientPort}`,
          '--listen-peer-urls',
          `http://127.0.0.1:${peerPort}`,
          '--initial-advertise-peer-urls',
          `http://127.0.0.1:${peerPort}`,
          '--initial-cluster',
          `default=http://127.0.0.1:${peerPort}`,
          '--unsafe-no-fsync',
          '--log-level',
          'error',
        ],
        {
          waitUntilReady: () =>
            waitFor(async () => (await fetch(`http://127.0.0.1:${clientPort}/health`)).ok || undefined, 30_000, 'etcd'),
        },
      ),
    );
    const ca = fs.readFileSync(path.join(dir, 'ca.crt'));
    const request = (method: string, urlPath: string, body?: unknown, contentType = 'application/json') =>
      new Promise<{ status: number; body: any }>((resolve, reject) => {
        const payload = body === undefined ? undefined : JSON.stringify(body);
        const outgoing = https.request(
          {
            host: '127.0.0.1',
            port: apiPort,
            path: urlPath,
            method,
            ca,
            headers: {
              Authorization: `Bearer ${token}`,
              Accept: 'application/json',
              ...(payload !== undefined && { 'Content-Type': contentType }),
            },
          },
          (response) => {
            const parts: Buffer[] = [];
            response.on('data', (part: Buffer) => parts.push(part));
            response.on('end', () => {
              const text = Buffer.concat(parts).toString();
              let parsed: unknown = text;
              try {
                parsed = JSON.parse(text);
              } catch {
                // readyz answers plain text
              }
              resolve({ status: response.statusCode ?? 0, body: parsed });
            });
          },
        );
        outgoing.on('error', reject);
        outgoing.end(payload);
      });
    processes.push(
      await spawnProcess(
        'kube-apiserver',
        tools.kubeApiserver,
        [
          `--etcd-servers=http://127.0.0.1:${clientPort}`,
          `--secure-port=${apiPort}`,
          '--bind-address=127.0.0.1',
          '--advertise-address=127.0.0.1',
          `--tls-cert-file=${path.join(dir, 'serving.crt')}`,
          `--tls-private-key-file=${path.join(dir, 'serving.key')}`,
          `--cert-dir=${dir}`,
          `--token-auth-file=${path.join(dir, 'tokens.csv')}`,
          '--authorization-mode=RBAC',
          `--service-account-issuer=https://127.0.0.1:${apiPort}/`,
          `--service-account-key-file=${path.join(dir, 'sa.pub')}`,
          `--service-account-signing-key-file=${path.join(dir, 'sa.key')}`,
          '--service-cluster-ip-range=10.0.0.0/24',
          '--allow-privileged=true',
          '--disable-admission-plugins=ServiceAccount',
          '--v=0',
        ],
        {
          waitUntilReady: () =>
            waitFor(
              async () => (await request('GET', '/readyz')).status === 200 || undefined,
              90_000,
              'kube-apiserver /readyz',
            ),
        },
      ),
    );

    const kubeconfigPath = path.join(dir, 'kubeconfig');
    fs.writeFileSync(
      kubeconfigPath,
      yaml.dump({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [
          {
            name: 'envtest',
            cluster: { server: `https://127.0.0.1:${apiPort}`, 'certificate-authority-data': ca.toString('base64') },
          },
        ],
        users: [{ name: 'admin', user: { token } }],
        contexts: [{ name: 'envtest', context: { cluster: 'envtest', user: 'admin' } }],
        'current-context': 'envtest',
      }),
    );
    const client = new HttpKubeClient(loadKubeConfig(kubeconfigPath));
    await installCrds(request);
    return { dir, kubeconfigPath, client, request, stop: stopAll };
  } catch (error) {
    const output = processes
      .map((running) => `--- ${running.name}\n${running.output.join('').slice(-3000)}`)
      .join('\n');
    await stopAll();
    throw new Error(`envtest did not start: ${(error as Error).message}\n${output}`, { cause: error });
  }
}

async function installCrds(request: EnvTest['request']): Promise<void> {
  const crdDir = path.join(repoRoot, 'crds');
  const names: string[] = [];
  for (const file of fs
    .readdirSync(crdDir)
    .filter((name) => name.endsWith('.yaml'))
    .sort()) {
    const crd = yaml.load(fs.readFileSync(path.join(crdDir, file), 'utf8')) as KubeObject;
    const created = await request('POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', crd);
    if (created.status !== 201)
      throw new Error(`CRD ${file} was refused: ${JSON.stringify(created.body).slice(0, 2000)}`);
    names.push(crd.metadata.name);
  }
  for (const name of names)
    await waitFor(
      async () => {
        const { body } = await request('GET', `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${name}`);
        const conditions = (body?.status?.conditions ?? []) as { type: string; status: string }[];
        return (
          conditions.some((condition) => condition.type === 'Established' && condition.status === 'True') || undefined
        );
      },
      30_000,
      `CRD ${name} to be established`,
    );
}
