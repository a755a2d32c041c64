/** Amounts are integer minor units (cents) of an ISO 4217 currency, as the API sends them. */
export function money(amount: number | null | undefined, currency = 'USD'): string {
  if (amount === null || amount === undefined) return '–';
  return new Intl.NumberFormat('en', { style: 'currency', currency }).format(amount / 100);
}

/** "2:05", "1:02:05": what is left of a deadline. */
export function countdown(ms: number): string {
  const total = Math.max(0, Math.ceil(ms / 1000));
  const [h, m, s] = [Math.floor(total / 3600), Math.floor((total % 3600) / 60), total % 60];
  const mm = h > 0 ? String(m).padStart(2, '0') : String(m);
  return `${h > 0 ? `${h}:` : ''}${mm}:${String(s).padStart(2, '0')}`;
}

export const time = (iso: string | null | undefined) => (iso ? new Date(iso).toLocaleTimeString('en-GB') : '–');

/** To the millisecond: a choreographed order's events are often a few ms apart, and how far apart is the point. */
export const preciseTime = (iso: string) =>
  // Naming one part drops the others' defaults: all four are named.
  new Date(iso).toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit', second: '2-digit', fractionalSecondDigits: 3 });

/** `authorizePayment` → "Authorize payment". */
export function label(name: string): string {
  const words = name.replace(/([A-Z])/g, ' $1').toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** `PINNED` → "pinned", `AUTO_UPGRADE` → "auto-upgrade": how a saga stays on its build. */
export const behavior = (b: string) => b.toLowerCase().replace('_', '-');
