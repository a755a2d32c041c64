import type { ComponentChildren } from 'preact';
import { useEffect } from 'preact/hooks';

/** Every page: a skip link, the site's header with its navigation, one main landmark with the page's heading. */
export function Layout({ title, children, wide }: { title: string; children: ComponentChildren; wide?: boolean }) {
  useEffect(() => {
    document.title = `${title} · checkout-saga`;
  }, [title]);
  const here = location.pathname;
  return (
    <>
      <a class="skip" href="#main">
        Skip to the content
      </a>
      <header class="site">
        <span class="brand">checkout-saga</span>
        <nav aria-label="Site">
          <a href="/" aria-current={here === '/' ? 'page' : undefined}>
            Store
          </a>
          <a href="/ops" aria-current={here === '/ops' ? 'page' : undefined}>
            Operations
          </a>
        </nav>
      </header>
      <main id="main" class={wide ? 'wide' : undefined}>
        <h1>{title}</h1>
        {children}
      </main>
    </>
  );
}

type FieldProps = {
  id: string;
  label: string;
  value: string;
  onInput: (value: string) => void;
  /** The API's messages about this field: shown beside it, and announced with it. */
  errors: string[];
  type?: 'text' | 'number' | 'password';
  autocomplete?: string;
};

/** A labelled input with the API's errors about it, tied to it for screen readers (aria-describedby, aria-invalid). */
export function Field({ id, label, value, onInput, errors, type = 'text', autocomplete }: FieldProps) {
  const errorsId = `${id}-errors`;
  const attributes = {
    id,
    name: id,
    value,
    autocomplete,
    'aria-invalid': errors.length > 0 ? ('true' as const) : undefined,
    'aria-describedby': errorsId,
    onInput: (e: Event) => onInput((e.target as HTMLInputElement).value),
  };
  return (
    <div class="field">
      <label for={id}>{label}</label>
      {/* One element per type: Preact's typings refuse an input whose type is a union. */}
      {type === 'password' ? (
        <input type="password" {...attributes} />
      ) : type === 'number' ? (
        <input type="number" {...attributes} />
      ) : (
        <input type="text" {...attributes} />
      )}
      <FieldErrors id={errorsId} errors={errors} />
    </div>
  );
}

/** The API's messages about a field (or a group of fields), under it. */
export function FieldErrors({ id, errors }: { id: string; errors: string[] }) {
  return (
    <div id={id} class="field-errors">
      {errors.map((message) => (
        <p key={message} class="field-error">
          {message}
        </p>
      ))}
    </div>
  );
}
