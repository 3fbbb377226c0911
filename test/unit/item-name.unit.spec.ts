import {
  ITEM_NAME_PATTERN,
  MAX_ITEM_NAME_LENGTH,
  assertItemName,
  isItemName,
  nameLength,
} from '../../src/shared/domain/index.js';

describe('item names: one rule for the DTO, the domain and the OpenAPI document', () => {
  const emoji = '\u{1F600}'; // one code point, two UTF-16 units

  it('counts Unicode code points, not UTF-16 units', () => {
    expect(emoji.length).toBe(2);
    expect(nameLength(emoji)).toBe(1);
    expect(nameLength('Café')).toBe(4);
  });

  it.each([
    ['a plain name', 'Espresso beans, 1 kg'],
    ['one character', 'x'],
    ['spaces around it', '  moka pot  '],
    [
      `${MAX_ITEM_NAME_LENGTH} emoji (${2 * MAX_ITEM_NAME_LENGTH} UTF-16 units)`,
      emoji.repeat(MAX_ITEM_NAME_LENGTH),
    ],
    [`${MAX_ITEM_NAME_LENGTH} letters`, 'n'.repeat(MAX_ITEM_NAME_LENGTH)],
    ['a surrogate pair', `mug ${emoji}`],
    ['non-Latin letters', 'コーヒー豆'],
  ])('accepts %s', (_label, name) => {
    expect(isItemName(name)).toBe(true);
    expect(() => assertItemName(name)).not.toThrow();
  });

  it.each([
    ['empty', ''],
    ['only spaces', '   '],
    ['only NUL', '\u0000'],
    ['only control characters', '\u0000\u0001\u001f\u007f\u009f'],
    ['only tabs and line feeds', ' \t\n\r '],
    ['only no-break and ideographic spaces', '\u00a0\u3000\ufeff'],
    ['a control character inside', 'moka\u0000pot'],
    ['a line feed inside', 'moka\npot'],
    ['a lone high surrogate', 'mug \ud83d'],
    ['a lone low surrogate', '\ude00 mug'],
    ['surrogates in the wrong order', '\ude00\ud83d'],
    [`${MAX_ITEM_NAME_LENGTH + 1} emoji`, emoji.repeat(MAX_ITEM_NAME_LENGTH + 1)],
    [`${MAX_ITEM_NAME_LENGTH + 1} letters`, 'n'.repeat(MAX_ITEM_NAME_LENGTH + 1)],
  ])('refuses %s: INVALID_NAME', (_label, name) => {
    expect(isItemName(name)).toBe(false);
    expect(() => assertItemName(name)).toThrow(expect.objectContaining({ code: 'INVALID_NAME' }));
  });

  it('states its characters rule as a portable regex (explicit \\u ranges, no \\s or \\p)', () => {
    expect(ITEM_NAME_PATTERN.source).not.toMatch(/\\[sSpP]/);
    expect(ITEM_NAME_PATTERN.source).toMatch(/^\^.*\$$/);
    // The pattern alone is what the document states: it agrees with the rule on every character class above.
    expect(ITEM_NAME_PATTERN.test('\u0000')).toBe(false);
    expect(ITEM_NAME_PATTERN.test(' x ')).toBe(true);
  });
});
