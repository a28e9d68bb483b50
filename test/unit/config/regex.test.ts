import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { compileTargetRegex } from '../../../src/config/regex.js';

function compile(source: string): RegExp {
  const result = compileTargetRegex(source);
  if ('error' in result) throw new Error(result.error);
  assert.equal(result.source, source);
  return result.regex;
}

describe('compileTargetRegex', () => {
  test('plain pattern searches unanchored', () => {
    const regex = compile('api[.]example[.]com');
    assert.equal(regex.source, 'api[.]example[.]com');
    assert.equal(regex.flags, '');
    assert.equal(regex.test('https://api.example.com/v1?q=1'), true);
    assert.equal(regex.test('https://apiXexample.com/'), false);
  });

  test('leading (?i) becomes the i flag', () => {
    const regex = compile('(?i)^https://API\\.example\\.com');
    assert.equal(regex.source, '^https:\\/\\/API\\.example\\.com');
    assert.equal(regex.flags, 'i');
    assert.equal(regex.test('https://api.EXAMPLE.com/x'), true);
  });

  test('leading (?is) sets both flags', () => {
    assert.equal(compile('(?is)a.b').flags, 'is');
  });

  test('named group and back reference translate', () => {
    const regex = compile('(?P<word>ab)-(?P=word)');
    assert.equal(regex.source, '(?<word>ab)-\\k<word>');
    assert.equal(regex.exec('xx ab-ab')?.groups?.word, 'ab');
    assert.equal(regex.test('ab-ac'), false);
  });

  test('escaped (?P< inside a class stays literal', () => {
    assert.equal(compile('[(?P<]x').source, '[(?P<]x');
  });

  test('escaped paren is not a group', () => {
    assert.equal(compile('\\(?P<x>').source, '\\(?P<x>');
  });

  test('\\A and \\Z anchor at the string ends', () => {
    const regex = compile('\\Ahttps://a\\.test/\\Z');
    assert.equal(regex.test('https://a.test/'), true);
    assert.equal(regex.test('xhttps://a.test/'), false);
    assert.equal(regex.test('https://a.test/x'), false);
    assert.equal(regex.test('A'), false);
  });

  test('non-capturing and lookahead groups pass through', () => {
    assert.equal(compile('(?:a|b)(?=c)(?!d)').source, '(?:a|b)(?=c)(?!d)');
  });

  const invalid: [string, string][] = [
    ['(', "Invalid regex '(': Unterminated group"],
    ['[a', "Invalid regex '[a': Unterminated character class"],
    ['a**', "Invalid regex 'a**': Nothing to repeat"],
    ['(?x)a b', "Invalid regex '(?x)a b': the inline flag 'x' is not supported"],
    [
      'a(?i)b',
      "Invalid regex 'a(?i)b': inline flags are only supported at the start of the pattern, such as '(?i)'",
    ],
    [
      '(?i:a)',
      "Invalid regex '(?i:a)': inline flags are only supported at the start of the pattern, such as '(?i)'",
    ],
    ['a(?#note)', "Invalid regex 'a(?#note)': comment groups '(?#...)' are not supported"],
    [
      '(a)?(?(1)b|c)',
      "Invalid regex '(a)?(?(1)b|c)': conditional groups '(?(...)...)' are not supported",
    ],
  ];
  for (const [source, message] of invalid) {
    test(`rejects ${source}`, () => {
      assert.deepEqual(compileTargetRegex(source), { error: message });
    });
  }
});
