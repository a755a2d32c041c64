// The demo catalog. GPU-01 starts with little stock, so "out of stock" can be
// reached from the API by ordering more than is left.
export const CATALOG_SEED = [
  { sku: 'KB-001', name: 'Mechanical keyboard', price: 12900, stock: 1000 },
  { sku: 'MS-002', name: 'Wireless mouse', price: 4900, stock: 1000 },
  { sku: 'MN-003', name: '27" monitor', price: 32900, stock: 500 },
  { sku: 'HD-004', name: 'Noise-cancelling headphones', price: 24900, stock: 500 },
  { sku: 'CB-005', name: 'USB-C cable', price: 1500, stock: 5000 },
  { sku: 'GPU-01', name: 'Graphics card (limited run)', price: 89900, stock: 3 },
] as const;
