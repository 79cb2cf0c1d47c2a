import { applySuggestion, completionContext, type CompletionContext } from '../query/autocomplete';
import { lineAndColumn } from '../query/time-range';
import { h, uniqueId } from './dom';

export type SuggestionProvider = (context: Exclude<CompletionContext, { kind: 'none' }>) => Promise<string[]>;

export interface QueryEditor {
  element: HTMLElement;
  textarea: HTMLTextAreaElement;
  value(): string;
  setValue(text: string): void;
  /** Marks `position` (an offset into the editor's text) and shows the message below. */
  showError(message: string, position: number | undefined): void;
  clearError(): void;
}

/**
 * A textarea with a mirrored backdrop (which draws the error mark under the text) and an ARIA combobox listbox of
 * suggestions. Enter runs the query, Shift+Enter adds a line, Ctrl+Space asks for suggestions.
 */
export function createQueryEditor(options: {
  label: string;
  placeholder: string;
  suggest: SuggestionProvider;
  onRun: () => void;
  onInput: (text: string) => void;
}): QueryEditor {
  const id = uniqueId('query');
  const listId = `${id}-suggestions`;
  const errorId = `${id}-error`;
  const backdrop = h('div', { className: 'editor-backdrop', 'aria-hidden': 'true' });
  const textarea = h('textarea', {
    id,
    className: 'editor-input',
    rows: 3,
    spellcheck: 'false',
    autocomplete: 'off',
    placeholder: options.placeholder,
    role: 'combobox',
    'aria-autocomplete': 'list',
    'aria-expanded': 'false',
    'aria-controls': listId,
    'aria-describedby': errorId,
  });
  const list = h('ul', {
    id: listId,
    className: 'suggestions',
    role: 'listbox',
    'aria-label': 'Suggestions',
    hidden: true,
  });
  const error = h('div', { id: errorId, className: 'editor-error', role: 'alert' });
  const element = h(
    'div',
    { className: 'editor' },
    h('label', { for: id }, options.label),
    h('div', { className: 'editor-field' }, backdrop, textarea),
    list,
    error,
  );
  let suggestions: string[] = [];
  let activeIndex = -1;
  let context: CompletionContext = { kind: 'none' };
  let errorPosition: number | undefined;
  let requestNumber = 0;

  const renderBackdrop = () => {
    const text = textarea.value;
    if (errorPosition === undefined) {
      backdrop.replaceChildren(document.createTextNode(`${text}\n`));
      return;
    }
    const at = Math.min(errorPosition, text.length);
    const marked = text.slice(at, at + 1);
    backdrop.replaceChildren(
      document.createTextNode(text.slice(0, at)),
      h('mark', { className: 'error-mark' }, marked === '' || marked === '\n' ? ' ' : marked),
      document.createTextNode(`${marked === '\n' ? '\n' : ''}${text.slice(at + 1)}\n`),
    );
  };

  const closeList = () => {
    // A suggestion request still in flight must not reopen the list.
    requestNumber++;
    suggestions = [];
    activeIndex = -1;
    list.hidden = true;
    list.replaceChildren();
    textarea.setAttribute('aria-expanded', 'false');
    textarea.removeAttribute('aria-activedescendant');
  };

  const renderList = () => {
    list.replaceChildren(
      ...suggestions.map((suggestion, index) =>
        h(
          'li',
          {
            id: `${listId}-${index}`,
            role: 'option',
            className: index === activeIndex ? 'active' : '',
            'aria-selected': String(index === activeIndex),
            onmousedown: (event: Event) => {
              event.preventDefault();
              accept(index);
            },
          },
          h('span', { className: 'suggestion-kind' }, context.kind === 'none' ? '' : kindLabel(context.kind)),
          suggestion,
        ),
      ),
    );
    list.hidden = suggestions.length === 0;
    textarea.setAttribute('aria-expanded', String(suggestions.length > 0));
    if (activeIndex >= 0) textarea.setAttribute('aria-activedescendant', `${listId}-${activeIndex}`);
    else textarea.removeAttribute('aria-activedescendant');
  };

  const accept = (index: number) => {
    if (context.kind === 'none' || !suggestions[index]) return;
    const edited = applySuggestion(textarea.value, textarea.selectionStart, context, suggestions[index]);
    textarea.value = edited.text;
    textarea.setSelectionRange(edited.cursor, edited.cursor);
    closeList();
    renderBackdrop();
    options.onInput(textarea.value);
    textarea.focus();
  };

  const refreshSuggestions = async () => {
    const current = ++requestNumber;
    context = completionContext(textarea.value, textarea.selectionStart);
    if (context.kind === 'none') return closeList();
    const prefix = context.prefix;
    const found = (await options.suggest(context).catch(() => [])).filter((suggestion) => suggestion !== prefix);
    if (current !== requestNumber) return;
    suggestions = found;
    activeIndex = found.length > 0 ? 0 : -1;
    renderList();
  };

  textarea.addEventListener('input', () => {
    errorPosition = undefined;
    renderBackdrop();
    options.onInput(textarea.value);
    void refreshSuggestions();
  });
  textarea.addEventListener('scroll', () => {
    backdrop.scrollTop = textarea.scrollTop;
  });
  textarea.addEventListener('blur', () => closeList());
  textarea.addEventListener('keydown', (event) => {
    const isOpen = !list.hidden && suggestions.length > 0;
    if (event.key === ' ' && event.ctrlKey) {
      event.preventDefault();
      void refreshSuggestions();
    } else if (isOpen && (event.key === 'ArrowDown' || event.key === 'ArrowUp')) {
      event.preventDefault();
      const step = event.key === 'ArrowDown' ? 1 : -1;
      activeIndex = (activeIndex + step + suggestions.length) % suggestions.length;
      renderList();
      document.getElementById(`${listId}-${activeIndex}`)?.scrollIntoView({ block: 'nearest' });
    } else if (isOpen && (event.key === 'Enter' || event.key === 'Tab') && activeIndex >= 0) {
      event.preventDefault();
      accept(activeIndex);
    } else if (isOpen && event.key === 'Escape') {
      event.preventDefault();
      closeList();
    } else if (event.key === 'Enter' && !event.shiftKey) {
      event.preventDefault();
      closeList();
      options.onRun();
    }
  });

  renderBackdrop();
  return {
    element,
    textarea,
    value: () => textarea.value,
    setValue(text) {
      textarea.value = text;
      errorPosition = undefined;
      renderBackdrop();
    },
    showError(message, position) {
      errorPosition = position;
      textarea.setAttribute('aria-invalid', 'true');
      renderBackdrop();
      const where = position === undefined ? undefined : lineAndColumn(textarea.value, position);
      error.replaceChildren(h('span', { className: 'error' }, message));
      if (where)
        error.append(
          ' ',
          h(
            'button',
            {
              type: 'button',
              className: 'link',
              onclick: () => {
                textarea.focus();
                textarea.setSelectionRange(position!, position! + 1);
              },
            },
            `line ${where.line}, column ${where.column}`,
          ),
        );
    },
    clearError() {
      errorPosition = undefined;
      textarea.removeAttribute('aria-invalid');
      error.replaceChildren();
      renderBackdrop();
    },
  };
}

function kindLabel(kind: Exclude<CompletionContext['kind'], 'none'>): string {
  switch (kind) {
    case 'keyword':
      return 'keyword';
    case 'function':
      return 'function';
    case 'measurement':
      return 'measurement';
    case 'field':
      return 'field';
    case 'tagKey':
      return 'tag key';
    case 'tagValue':
      return 'tag value';
  }
}
