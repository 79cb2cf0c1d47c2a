import './styles.css';
import { ApiClient, type ApiFailure } from './api/client';
import { h, replaceChildren, uniqueId } from './ui/dom';
import { applyTheme, nextTheme, storedTheme } from './ui/theme';
import { alertsPage } from './views/alerts';
import type { Page, PageContext } from './views/context';
import { explorePage } from './views/explore';
import { rulesPage } from './views/rules';
import { statusPage } from './views/status';

const CREDENTIAL_KEY = 'metricstream.credential';
const BASE = import.meta.env.BASE_URL.replace(/\/$/, '');
const ROUTES = {
  explore: { title: 'Explore', create: explorePage },
  alerts: { title: 'Alerts', create: alertsPage },
  rules: { title: 'Rules', create: rulesPage },
  status: { title: 'Status', create: statusPage },
} as const;
type RouteName = keyof typeof ROUTES;

const credentials = { read: () => localStorage.getItem(CREDENTIAL_KEY) ?? '' };
const authPanel = h('div', { className: 'auth-panel' });
const api = new ApiClient(credentials, (failure) => showAuth(failure));
const main = h('main', { id: 'main', tabindex: '-1' });
const navLinks = (Object.keys(ROUTES) as RouteName[]).map((name) =>
  h('a', { href: `${BASE}/${name}`, 'data-route': name }, ROUTES[name].title),
);
const themeButton = h('button', { type: 'button', className: 'theme-toggle', onclick: () => toggleTheme() });
const credentialButton = h('button', { type: 'button', onclick: () => showAuth(undefined) }, 'Credentials');

document.body.append(
  h('a', { className: 'skip-link', href: '#main' }, 'Skip to content'),
  h(
    'header',
    { className: 'top' },
    h('span', { className: 'brand' }, 'MetricStream'),
    h('nav', { 'aria-label': 'Console' }, h('ul', {}, ...navLinks.map((link) => h('li', {}, link)))),
    h('div', { className: 'top-actions' }, credentialButton, themeButton),
  ),
  authPanel,
  main,
);

let current: Page | undefined;
/** Each page's last query string, so leaving Explore and coming back keeps the query, range and view. */
const lastSearch = new Map<RouteName, string>();

const context: PageContext = {
  api,
  search: () => location.search,
  setSearch(search) {
    lastSearch.set(routeOf(location.pathname), search);
    const url = `${location.pathname}${search ? `?${search}` : ''}`;
    if (url !== `${location.pathname}${location.search}`) history.replaceState(null, '', url);
  },
};

function routeOf(pathname: string): RouteName {
  const name = pathname.slice(BASE.length).replace(/^\/+/, '').split('/')[0];
  return name in ROUTES ? (name as RouteName) : 'explore';
}

function render(moveFocus: boolean) {
  const route = routeOf(location.pathname);
  current?.leave();
  current = ROUTES[route].create(context);
  replaceChildren(main, current.element);
  document.title = `${ROUTES[route].title} · MetricStream`;
  for (const link of navLinks) {
    if (link.dataset.route === route) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  const heading = main.querySelector<HTMLElement>('h1');
  if (heading) heading.tabIndex = -1;
  if (moveFocus) heading?.focus();
}

document.addEventListener('click', (event) => {
  const link = (event.target as Element).closest?.('a[data-route]') as HTMLAnchorElement | null;
  if (!link || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  event.preventDefault();
  const search = lastSearch.get(link.dataset.route as RouteName);
  const target = `${link.pathname}${search ? `?${search}` : ''}`;
  if (target !== `${location.pathname}${location.search}`) history.pushState(null, '', target);
  render(true);
});
window.addEventListener('popstate', () => render(false));

function toggleTheme() {
  applyTheme(nextTheme(storedTheme()));
  showTheme();
}

function showTheme() {
  const choice = storedTheme();
  themeButton.textContent = `Theme: ${choice}`;
  themeButton.setAttribute('aria-label', `Theme: ${choice}. Switch to ${nextTheme(choice)}`);
}

/** The client id or API key, entered once and kept in localStorage; sent as Authorization on every call. */
function showAuth(failure: ApiFailure | undefined) {
  const id = uniqueId('credential');
  const input = h('input', { id, type: 'password', autocomplete: 'off', value: credentials.read(), required: true });
  replaceChildren(
    authPanel,
    h(
      'form',
      {
        className: 'auth-form',
        'aria-label': 'Credentials',
        onsubmit: (event: Event) => {
          event.preventDefault();
          localStorage.setItem(CREDENTIAL_KEY, input.value.trim());
          replaceChildren(authPanel);
          render(false);
        },
      },
      failure && h('p', { className: 'error', role: 'alert' }, `Not authorized: ${failure.body.message}`),
      h('label', { for: id }, 'Client id or API key'),
      input,
      h('button', { type: 'submit', className: 'primary' }, 'Save'),
      h('button', { type: 'button', onclick: () => replaceChildren(authPanel) }, 'Close'),
      h('small', {}, 'Stored in this browser only and sent as Authorization: Bearer … with every request.'),
    ),
  );
  input.focus();
}

applyTheme(storedTheme());
showTheme();
if (credentials.read() === '') showAuth(undefined);
render(false);
