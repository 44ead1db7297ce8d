import { fieldSelector, labelSelector } from './selectors.js';

describe('labelSelector', () => {
  const labels = { app: 'osa', tier: 'hook', 'osa.io/batch': '3' };

  it.each([
    ['app=osa,osa.io/batch=3', true],
    ['app==osa', true],
    ['app!=osa', false],
    ['tier in (hook, ingester)', true],
    ['tier notin (hook)', false],
    ['app', true],
    ['!missing', true],
    ['!app', false],
    ['', true],
  ])('evaluates "%s" as %s', (selector, expected) => {
    expect(labelSelector(selector)(labels)).toBe(expected);
  });

  it('rejects syntax it does not know', () => {
    expect(() => labelSelector('app=~x')).toThrow(/unable to parse/);
  });
});

describe('fieldSelector', () => {
  it('matches status.phase and metadata.name', () => {
    const pod = { metadata: { name: 'p' }, status: { phase: 'Pending' } };
    expect(fieldSelector('status.phase=Pending')(pod)).toBe(true);
    expect(fieldSelector('status.phase!=Pending,metadata.name=p')(pod)).toBe(false);
  });

  it('rejects fields the API server does not index', () => {
    expect(() => fieldSelector('spec.foo=bar')).toThrow(/not supported/);
  });
});
