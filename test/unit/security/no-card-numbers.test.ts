import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { cardNumbersIn, historyTexts } from '../../support/card-numbers';

// Payment data is tokens only: no recorded history, and no payload inside one,
// may hold anything that looks like a card number (a 13–19 digit run that
// passes the Luhn check). test/security/no-card-numbers.test.ts checks what a
// live run logs and records.

const HISTORIES = path.resolve(__dirname, '../../histories');

describe('the scanner', () => {
  // Without these, a scanner that finds nothing would pass every test below.
  it('finds card numbers written together, grouped, and inside base64 payloads', () => {
    expect(cardNumbersIn('token 4242424242424242 here')).toEqual(['4242424242424242']);
    expect(cardNumbersIn('4000-0566-5566-5556 and 5555 5555 5555 4444')).toEqual(['4000-0566-5566-5556', '5555 5555 5555 4444']);
    expect(cardNumbersIn('4242424242424241 fails Luhn; 123 is short; 12345678901234567890123 is no card')).toEqual([]);
    expect(cardNumbersIn('run a3f75388-4619-4431-9bd3-000000000000 is a UUID')).toEqual([]);
    const payload = {
      metadata: { encoding: Buffer.from('json/plain').toString('base64') },
      data: Buffer.from('{"token":"378282246310005"}').toString('base64'),
    };
    expect(historyTexts({ events: [{ input: { payloads: [payload] } }] }).flatMap(cardNumbersIn)).toEqual(['378282246310005']);
  });
});

describe('recorded histories', () => {
  // Every build's, the retired ones' included.
  const files = readdirSync(HISTORIES, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.json'));

  it('there are histories to scan', () => {
    expect(files.length).toBeGreaterThan(0);
  });

  it.each(files)('%s holds no card number, decoded payloads included', (file) => {
    const history = JSON.parse(readFileSync(path.join(HISTORIES, file), 'utf8'));
    const texts = historyTexts(history);
    expect(texts.length).toBeGreaterThan(1);
    expect(texts.flatMap(cardNumbersIn)).toEqual([]);
  });
});
