import { imageAllowed } from '#osa/domain';

describe('image allow-list boundaries', () => {
  it('matches a host-only prefix only when a path follows it: a port after the host is another registry', () => {
    const prefixes = ['registry.example.org'];
    for (const ok of ['registry.example.org', 'registry.example.org/x', 'registry.example.org/osa/hook:1'])
      expect([ok, imageAllowed(ok, prefixes)]).toEqual([ok, true]);
    for (const bad of ['registry.example.org:5000/x', 'registry.example.org@sha256:abc', 'registry.example.org.evil/x', 'registry.example.orgx/y'])
      expect([bad, imageAllowed(bad, prefixes)]).toEqual([bad, false]);
    // A host with its port as the prefix: only that registry.
    expect(imageAllowed('registry.example.org:5000/x', ['registry.example.org:5000'])).toBe(true);
    expect(imageAllowed('registry.example.org:50001/x', ['registry.example.org:5000'])).toBe(false);
    expect(imageAllowed('registry.example.org:5000/x', ['registry.example.org:'])).toBe(false);
  });

  it('lets a tag or digest end a prefix that names a repository path', () => {
    const prefixes = ['registry.example.org/osa'];
    for (const ok of ['registry.example.org/osa:2', 'registry.example.org/osa@sha256:abc', 'registry.example.org/osa/hook:1'])
      expect([ok, imageAllowed(ok, prefixes)]).toEqual([ok, true]);
    expect(imageAllowed('registry.example.org/osa-evil/x', prefixes)).toBe(false);
    expect(imageAllowed('registry.example.org/osa:2', ['registry.example.org/osa:'])).toBe(true);
  });
});
