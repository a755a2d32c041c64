// The web app's one script: the page is chosen by the path the API served it at.
import { render } from 'preact';
import { OperationsConsole } from './ops';
import { OrderPage } from './order-page';
import { Storefront } from './storefront';

function page() {
  const order = /^\/orders\/([A-Za-z0-9_-]+)$/.exec(location.pathname);
  if (order) return <OrderPage orderId={order[1]} />;
  if (location.pathname === '/ops') return <OperationsConsole />;
  return <Storefront />;
}

const root = document.getElementById('app')!;
// The placeholder that shows until the script runs: Preact renders beside what it finds, not over it.
root.textContent = '';
render(page(), root);
