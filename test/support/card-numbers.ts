import { validate as passesLuhn } from 'luhn';

// Digit runs a payment card number could be (ISO/IEC 7812: 13 to 19 digits).
// A run is taken whole: a slice of a longer number would pass Luhn one time in
// ten by chance. Grouped forms (4242 4242 4242 4242, 3782-822463-10005) must
// stand apart from letters and dashes, or every UUID with a numeric stretch
// (…f75388-4619-4431-…) would be a candidate.
const RUN = /(?<!\d)\d{13,19}(?!\d)/g;
const GROUPED = /(?<![\w-])\d{4}(?:[ -]\d{2,6}){2,4}(?![\w-])/g;

/** Every card-number-like digit run in `text` that passes the Luhn check. */
export function cardNumbersIn(text: string): string[] {
  const grouped = [...text.matchAll(GROUPED)].map((m) => m[0]).filter((g) => /^\d{13,19}$/.test(g.replace(/[ -]/g, '')));
  return [...text.matchAll(RUN)]
    .map((m) => m[0])
    .concat(grouped)
    .filter((run) => passesLuhn(run.replace(/[ -]/g, '')));
}

/**
 * A recorded history's text plus every Temporal payload in it decoded: payload
 * data and metadata are base64 in JSON histories, so a card number inside a
 * workflow input or an activity result would not show in the raw text.
 */
export function historyTexts(history: unknown): string[] {
  const texts = [JSON.stringify(history)];
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(visit);
    if (node === null || typeof node !== 'object') return;
    const { data, metadata } = node as { data?: unknown; metadata?: unknown };
    if (typeof data === 'string' && metadata && typeof metadata === 'object') {
      texts.push(Buffer.from(data, 'base64').toString('utf8'));
      for (const value of Object.values(metadata)) if (typeof value === 'string') texts.push(Buffer.from(value, 'base64').toString('utf8'));
    }
    Object.values(node).forEach(visit);
  };
  visit(history);
  return texts;
}
