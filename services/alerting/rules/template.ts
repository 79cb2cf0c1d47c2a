/**
 * Annotation templates: `{{ $value }}` is the observed value, `{{ $labels.host }}` a label of the instance,
 * `{{ $rule }}` the rule's name, and `{{ $threshold }}` the number the condition compares with. Anything else between
 * braces is left as written so a typo shows up in the message rather than silently vanishing.
 */
export interface TemplateContext {
  value: number | null;
  labels: Readonly<Record<string, string>>;
  rule: string;
  threshold: number;
}

const PLACEHOLDER = /\{\{\s*\$(value|rule|threshold|labels\.([A-Za-z_][A-Za-z0-9_]*))\s*\}\}/g;

const formatValue = (value: number | null) =>
  value === null ? 'no data' : Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(6)));

export function renderTemplate(template: string, context: TemplateContext): string {
  return template.replace(PLACEHOLDER, (_whole, name: string, labelKey: string | undefined) => {
    if (labelKey !== undefined) return context.labels[labelKey] ?? '';
    if (name === 'value') return formatValue(context.value);
    if (name === 'threshold') return String(context.threshold);
    return context.rule;
  });
}

export function renderAnnotations(
  annotations: Readonly<Record<string, string>>,
  context: TemplateContext,
): Record<string, string> {
  return Object.fromEntries(Object.entries(annotations).map(([key, text]) => [key, renderTemplate(text, context)]));
}
