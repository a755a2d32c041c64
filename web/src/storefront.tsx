import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiFailure, api } from './api';
import { money } from './format';
import { Field, FieldErrors, Layout } from './layout';
import { ADDRESSES, CARDS, COORDINATIONS, ELSEWHERE, SCENARIOS, type Address } from './scenarios';
import type { Coordination, Issue, Placed, Product } from './types';

/** Stock changes as others order: the catalog is read again this often while the page is open. */
const CATALOG_REFRESH_MS = 3000;

type Cart = Record<string, number>;
type Form = { customerId: string; card: string } & Address;

const INITIAL: Form = { customerId: 'cust_1', card: 'tok_visa', ...ADDRESSES[0].address };

export function Storefront() {
  const [catalog, setCatalog] = useState<Product[] | null>(null);
  const [catalogError, setCatalogError] = useState<string | null>(null);
  const [cart, setCart] = useState<Cart>({ 'KB-001': 1 });
  const [form, setForm] = useState<Form>(INITIAL);
  // Apart from the form, which a scenario replaces: a scenario runs under whichever coordination is chosen.
  const [coordination, setCoordination] = useState<Coordination>('orchestration');
  const [issues, setIssues] = useState<Issue[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [placing, setPlacing] = useState(false);
  const [note, setNote] = useState<string | undefined>();
  // One key per order the customer means to place: a double click, or a retry
  // after a lost answer, sends the same key and gets the same order back.
  // Any change to the order makes it another order, with a key of its own.
  const idempotencyKey = useRef<string | null>(null);

  useEffect(() => {
    let stopped = false;
    const load = async () => {
      try {
        const { data } = await api<Product[]>('/catalog');
        if (!stopped) {
          setCatalog(data);
          setCatalogError(null);
        }
      } catch (err) {
        if (!stopped) setCatalogError(err instanceof Error ? err.message : String(err));
      }
    };
    void load();
    const timer = setInterval(load, CATALOG_REFRESH_MS);
    return () => {
      stopped = true;
      clearInterval(timer);
    };
  }, []);

  const changed = () => {
    idempotencyKey.current = null;
  };
  const setField = (name: keyof Form) => (value: string) => {
    changed();
    setForm((f) => ({ ...f, [name]: value }));
  };
  const setQuantity = (sku: string, quantity: number) => {
    changed();
    setCart((c) => {
      const { [sku]: _, ...rest } = c;
      return quantity > 0 ? { ...c, [sku]: quantity } : rest;
    });
  };

  const chooseCoordination = (value: Coordination) => {
    changed();
    setCoordination(value);
  };

  const applyScenario = (id: string) => {
    const scenario = SCENARIOS.find((s) => s.id === id);
    if (!scenario) return;
    const address = ADDRESSES.find((a) => a.id === scenario.address)!.address;
    setForm({ customerId: scenario.customerId, card: scenario.card, ...address });
    const gpu = catalog?.find((p) => p.sku === 'GPU-01');
    setCart(scenario.cart === 'beyond-stock' ? { 'GPU-01': (gpu?.available ?? 3) + 1 } : { 'KB-001': 1 });
    setNote(scenario.note);
    setIssues([]);
    changed();
  };
  const applyAddress = (id: string) => {
    const preset = ADDRESSES.find((a) => a.id === id);
    if (!preset) return;
    changed();
    setForm((f) => ({ ...f, ...preset.address }));
  };

  const lines = Object.entries(cart);
  const total = lines.reduce((sum, [sku, qty]) => sum + (catalog?.find((p) => p.sku === sku)?.price ?? 0) * qty, 0);

  const place = async (event: Event) => {
    event.preventDefault();
    if (placing) return;
    setPlacing(true);
    setError(null);
    setIssues([]);
    idempotencyKey.current ??= newKey();
    // Sent as typed: the API validates it, and its answer names the fields to fix.
    const body = {
      customerId: form.customerId,
      items: lines.map(([sku, quantity]) => ({ sku, quantity })),
      payment: { token: form.card },
      shippingAddress: { name: form.name, line1: form.line1, city: form.city, postalCode: form.postalCode, country: form.country },
      coordination,
    };
    try {
      const { data } = await api<Placed>('/orders', { method: 'POST', body, headers: { 'Idempotency-Key': idempotencyKey.current } });
      location.assign(data.links.page);
    } catch (err) {
      const failure = err instanceof ApiFailure ? err : new ApiFailure(0, { error: String(err) });
      setIssues(failure.body.issues ?? []);
      setError(failure.body.error);
      setPlacing(false);
    }
  };

  const under = (issue: Issue, path: (string | number)[]) => path.every((p, n) => issue.path[n] === p);
  /** The messages of the issues about `path` or anything in it: shown beside that field. */
  const issuesAt = (...path: (string | number)[]) => issues.filter((i) => under(i, path)).map((i) => i.message);
  /** The messages about `path` itself (the cart as a whole, say), not about anything in it. */
  const issuesExactly = (...path: (string | number)[]) => issues.filter((i) => under(i, path) && i.path.length === path.length).map((i) => i.message);
  // Whatever names no field of the form (an unknown field at the top, say) is shown with the error.
  const unplaced = issues.filter((i) => !['customerId', 'items', 'payment', 'shippingAddress', 'coordination'].includes(String(i.path[0]))).map((i) => i.message);

  return (
    <Layout title="Store">
      <section aria-labelledby="catalog-heading">
        <h2 id="catalog-heading">Catalog</h2>
        {catalogError && <p class="error" role="alert">The catalog could not be loaded: {catalogError}</p>}
        {!catalog && !catalogError && <p>Loading the catalog…</p>}
        {catalog && (
          <ul class="catalog">
            {catalog.map((p) => (
              <li key={p.sku} class="product">
                <span class="product-name">{p.name}</span>
                <span class="sku">{p.sku}</span>
                <span class="price">{money(p.price)}</span>
                <span class="stock" data-sku={p.sku}>
                  {p.available > 0 ? `${p.available} in stock` : 'Out of stock'}
                </span>
                <button type="button" onClick={() => setQuantity(p.sku, (cart[p.sku] ?? 0) + 1)} aria-label={`Add to cart: ${p.name}`}>
                  Add to cart
                </button>
              </li>
            ))}
          </ul>
        )}
      </section>

      <form class="checkout" onSubmit={place} noValidate aria-labelledby="checkout-heading">
        <h2 id="checkout-heading">Checkout</h2>

        <fieldset>
          <legend>Scenario</legend>
          <label for="scenario">Try a scenario from the README (fills in the form and the cart)</label>
          <PresetSelect id="scenario" placeholder="Choose a scenario…" presets={SCENARIOS} onChoose={applyScenario} />
          {note && <p class="hint">{note}</p>}
          <details>
            <summary>Two scenarios start elsewhere</summary>
            <ul>
              {ELSEWHERE.map((text) => (
                <li key={text}>{text}</li>
              ))}
            </ul>
          </details>
        </fieldset>

        <fieldset>
          <legend>Cart</legend>
          {lines.length === 0 && <p>The cart is empty.</p>}
          <FieldErrors id="cart-errors" errors={issuesExactly('items')} />
          <ul class="cart">
            {lines.map(([sku, quantity], i) => {
              const product = catalog?.find((p) => p.sku === sku);
              return (
                <li key={sku}>
                  <Field
                    id={`qty-${sku}`}
                    label={`${product?.name ?? sku}: quantity`}
                    type="number"
                    value={String(quantity)}
                    onInput={(v) => setQuantity(sku, Number(v))}
                    errors={issuesAt('items', i)}
                  />
                  <button type="button" class="link" onClick={() => setQuantity(sku, 0)} aria-label={`Remove: ${product?.name ?? sku}`}>
                    Remove
                  </button>
                </li>
              );
            })}
          </ul>
          <p class="total">
            Total: <strong>{money(total)}</strong>
          </p>
        </fieldset>

        <fieldset>
          <legend>Customer and payment</legend>
          <Field id="customerId" label="Customer id" value={form.customerId} onInput={setField('customerId')} errors={issuesAt('customerId')} />
          <div class="field">
            <label for="card">Test card</label>
            <select id="card" value={form.card} onChange={(e) => setField('card')((e.target as HTMLSelectElement).value)} aria-describedby="card-errors">
              {CARDS.map((c) => (
                <option key={c.token} value={c.token}>
                  {c.label} ({c.token})
                </option>
              ))}
            </select>
            <FieldErrors id="card-errors" errors={issuesAt('payment')} />
          </div>
        </fieldset>

        <fieldset>
          <legend>Shipping address</legend>
          <div class="field">
            <label for="address-preset">Address preset</label>
            <PresetSelect id="address-preset" placeholder="Choose a preset…" presets={ADDRESSES} onChoose={applyAddress} />
          </div>
          <Field id="name" label="Name" value={form.name} onInput={setField('name')} errors={issuesAt('shippingAddress', 'name')} autocomplete="name" />
          <Field id="line1" label="Address" value={form.line1} onInput={setField('line1')} errors={issuesAt('shippingAddress', 'line1')} autocomplete="address-line1" />
          <Field id="city" label="City" value={form.city} onInput={setField('city')} errors={issuesAt('shippingAddress', 'city')} autocomplete="address-level2" />
          <Field
            id="postalCode"
            label="Postal code"
            value={form.postalCode}
            onInput={setField('postalCode')}
            errors={issuesAt('shippingAddress', 'postalCode')}
            autocomplete="postal-code"
          />
          <Field
            id="country"
            label="Country (ISO code, e.g. GB)"
            value={form.country}
            onInput={setField('country')}
            errors={issuesAt('shippingAddress', 'country')}
            autocomplete="country"
          />
          <FieldErrors id="address-errors" errors={issuesExactly('shippingAddress')} />
        </fieldset>

        <CoordinationChoice value={coordination} onChoose={chooseCoordination} errors={issuesAt('coordination')} />

        {error && (
          <div class="error" role="alert">
            <p>
              The API refused the order: {error}.{issues.length > unplaced.length ? ' Each problem is shown beside its field.' : ''}
            </p>
            {unplaced.length > 0 && (
              <ul>
                {unplaced.map((m) => (
                  <li key={m}>{m}</li>
                ))}
              </ul>
            )}
          </div>
        )}
        <button type="submit" class="primary" disabled={placing}>
          {placing ? 'Placing the order…' : `Place order (${money(total)})`}
        </button>
      </form>
    </Layout>
  );
}

/** A labelled list of presets (scenarios, addresses) that fills in the form when one is chosen. */
function PresetSelect(props: { id: string; placeholder: string; presets: readonly { id: string; label: string }[]; onChoose: (id: string) => void }) {
  return (
    <select id={props.id} onChange={(e) => props.onChoose((e.target as HTMLSelectElement).value)}>
      <option value="">{props.placeholder}</option>
      {props.presets.map((p) => (
        <option key={p.id} value={p.id}>
          {p.label}
        </option>
      ))}
    </select>
  );
}

/** Who drives the saga: the same order, the same services, either way; only how they are told what to do differs. */
function CoordinationChoice(props: { value: Coordination; onChoose: (value: Coordination) => void; errors: string[] }) {
  return (
    <fieldset aria-describedby="coordination-errors">
      <legend>Coordination of the saga</legend>
      {COORDINATIONS.map((c) => (
        <div key={c.id} class="field inline">
          <input
            type="radio"
            id={`coordination-${c.id}`}
            name="coordination"
            value={c.id}
            checked={props.value === c.id}
            onChange={() => props.onChoose(c.id)}
          />
          <label for={`coordination-${c.id}`}>{c.label}</label>
        </div>
      ))}
      <FieldErrors id="coordination-errors" errors={props.errors} />
    </fieldset>
  );
}

/** An Idempotency-Key: random, from crypto.getRandomValues, which unlike randomUUID also works outside a secure context. */
function newKey(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return `web-${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`;
}
