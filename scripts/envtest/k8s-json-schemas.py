#!/usr/bin/env python3
"""Writes kubeconform schemas (strict: unknown fields are errors) with no network access:

- for built-in kinds, from the OpenAPI v3 spec shipped in the pinned k8s.io/kubernetes module (api/openapi-spec/v3,
  already in the Go module cache after scripts/install-tools.sh);
- for our kinds, from the CRDs in crds/.

Files are named as kubeconform's template {{ .ResourceKind }}{{ .KindSuffix }}.json expects
(deployment-apps-v1.json, service-v1.json, queuecluster-metricstream-v1alpha1.json).

Usage: k8s-json-schemas.py OPENAPI_V3_DIR CRD_DIR OUTPUT_DIR
"""
import copy
import glob
import json
import os
import sys

import yaml


def kind_file(kind, group, version):
    suffix = "-" + (group.split(".")[0].lower() + "-" + version if group else version)
    return kind.lower() + suffix + ".json"


def tighten(schema):
    """Closes objects (strict mode), widens int-or-string and quantities, honours nullable, recursively."""
    if isinstance(schema, list):
        return [tighten(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    result = {}
    for key, value in schema.items():
        if key == "x-kubernetes-validations":
            continue
        if key in ("properties", "definitions", "patternProperties") and isinstance(value, dict):
            # A map from names to schemas: the names are data, not keywords.
            result[key] = {name: tighten(member) for name, member in value.items()}
        else:
            result[key] = tighten(value)
    if result.get("format") == "int-or-string" or result.pop("x-kubernetes-int-or-string", False):
        for key in ("type", "format", "pattern"):
            result.pop(key, None)
        result["anyOf"] = [{"type": "string"}, {"type": "integer"}]
    if result.get("nullable") and isinstance(result.get("type"), str):
        result["type"] = [result["type"], "null"]
    is_open = result.get("x-kubernetes-preserve-unknown-fields")
    if "properties" in result and "additionalProperties" not in result and not is_open:
        result["additionalProperties"] = False
    return result


def builtin_schemas(openapi_dir):
    schemas = {}
    for path in sorted(glob.glob(os.path.join(openapi_dir, "*_openapi.json"))):
        with open(path) as handle:
            schemas.update(json.load(handle).get("components", {}).get("schemas", {}))
    # Quantities are written as strings or numbers in manifests (cpu: 1).
    quantity = "io.k8s.apimachinery.pkg.api.resource.Quantity"
    if quantity in schemas:
        schemas[quantity] = {"anyOf": [{"type": "string"}, {"type": "number"}]}
    return schemas


def rewrite_refs(node):
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                out[key] = value.replace("#/components/schemas/", "#/definitions/")
            else:
                out[key] = rewrite_refs(value)
        # OpenAPI v3 wraps a $ref in allOf to attach a description or default.
        if "allOf" in out and len(out["allOf"]) == 1 and "$ref" in out["allOf"][0]:
            out["$ref"] = out.pop("allOf")[0]["$ref"]
        return out
    if isinstance(node, list):
        return [rewrite_refs(item) for item in node]
    return node


def reachable(schemas, root):
    seen, stack = set(), [root]
    while stack:
        name = stack.pop()
        if name in seen or name not in schemas:
            continue
        seen.add(name)
        text = json.dumps(schemas[name])
        for part in text.split('"#/components/schemas/')[1:]:
            stack.append(part.split('"', 1)[0])
    return seen


def main(openapi_dir, crd_dir, output_dir):
    os.makedirs(output_dir, exist_ok=True)
    schemas = builtin_schemas(openapi_dir)
    written = 0
    for name, schema in schemas.items():
        for gvk in schema.get("x-kubernetes-group-version-kind", []):
            definitions = {dep: tighten(rewrite_refs(schemas[dep])) for dep in reachable(schemas, name)}
            document = {"$ref": "#/definitions/" + name, "definitions": definitions}
            with open(os.path.join(output_dir, kind_file(gvk["kind"], gvk["group"], gvk["version"])), "w") as handle:
                json.dump(document, handle)
            written += 1
    for path in sorted(glob.glob(os.path.join(crd_dir, "*.yaml"))):
        with open(path) as handle:
            crd = yaml.safe_load(handle)
        spec = crd["spec"]
        for version in spec["versions"]:
            schema = tighten(copy.deepcopy(version["schema"]["openAPIV3Schema"]))
            with open(os.path.join(output_dir, kind_file(spec["names"]["kind"], spec["group"], version["name"])), "w") as handle:
                json.dump(schema, handle)
            written += 1
    print(f"wrote {written} schemas to {output_dir}", file=sys.stderr)


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    main(*sys.argv[1:])
