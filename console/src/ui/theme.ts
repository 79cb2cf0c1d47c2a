export type ThemeChoice = 'system' | 'light' | 'dark';

const STORAGE_KEY = 'metricstream.theme';
const CHOICES: ThemeChoice[] = ['system', 'light', 'dark'];

export function storedTheme(): ThemeChoice {
  const stored = localStorage.getItem(STORAGE_KEY);
  return CHOICES.includes(stored as ThemeChoice) ? (stored as ThemeChoice) : 'system';
}

/** `system` follows prefers-color-scheme through CSS; light and dark pin it with `data-theme`. */
export function applyTheme(choice: ThemeChoice): void {
  if (choice === 'system') document.documentElement.removeAttribute('data-theme');
  else document.documentElement.setAttribute('data-theme', choice);
  localStorage.setItem(STORAGE_KEY, choice);
  window.dispatchEvent(new CustomEvent('themechange'));
}

export const nextTheme = (choice: ThemeChoice): ThemeChoice => CHOICES[(CHOICES.indexOf(choice) + 1) % CHOICES.length];

export function isDark(): boolean {
  const pinned = document.documentElement.getAttribute('data-theme');
  if (pinned) return pinned === 'dark';
  return window.matchMedia('(prefers-color-scheme: dark)').matches;
}

/** A CSS custom property of the root, for canvas drawing that cannot use CSS. */
export const cssVariable = (name: string) => getComputedStyle(document.documentElement).getPropertyValue(name).trim();
