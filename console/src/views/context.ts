import type { ApiClient } from '../api/client';

/** What every page gets from the shell. */
export interface PageContext {
  api: ApiClient;
  /** Replaces the current URL's query string (shareable state) without adding a history entry. */
  setSearch(search: string): void;
  search(): string;
}

export interface Page {
  element: HTMLElement;
  /** Stops timers and pending requests when the user leaves the page. */
  leave(): void;
}
