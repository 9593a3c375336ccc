import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { VolactError } from '@volact/protocol';
import { discover, orderSrv, parseDnsServer, searchDomains, type SrvTarget } from './discovery.js';

/** A seeded source (mulberry32), so the statistics below are the same on every run. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const srv = (name: string, priority: number, weight: number): SrvTarget => ({ name, port: 1688, priority, weight });

/** Pearson's chi-square statistic of observed counts against expected proportions. */
function chiSquare(observed: number[], proportions: number[]): number {
  const n = observed.reduce((a, b) => a + b, 0);
  return observed.reduce((sum, o, i) => sum + (o - n * proportions[i]!) ** 2 / (n * proportions[i]!), 0);
}

describe('SRV order (RFC 2782)', () => {
  test('lower priority always first, whatever the weights', () => {
    const random = seeded(1);
    for (let i = 0; i < 1000; i++) {
      const order = orderSrv([srv('backup', 10, 1000), srv('main-a', 0, 1), srv('main-b', 0, 1)], random);
      assert.deepEqual(
        order.map((r) => r.priority),
        [0, 0, 10],
      );
    }
  });

  test('weights spread first contacts in proportion (chi-square, 3 degrees of freedom)', () => {
    const records = [srv('a', 0, 10), srv('b', 0, 20), srv('c', 0, 30), srv('d', 0, 40)];
    const random = seeded(42);
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < 20_000; i++) counts['abcd'.indexOf(orderSrv(records, random)[0]!.name)]!++;
    // RFC 2782 picks an integer in [0, 100]: the first record covers 0..10 (11 values of 101)
    // 11.34 is the 0.99 quantile for 3 degrees of freedom
    assert.ok(chiSquare(counts, [11 / 101, 20 / 101, 30 / 101, 40 / 101]) < 11.34, `counts ${counts.join(', ')}`);
    // and the test has power: the same counts are far from a uniform spread
    assert.ok(chiSquare(counts, [0.25, 0.25, 0.25, 0.25]) > 1000);
  });

  test('all weights 0: uniform; a weight-0 record among weighted ones comes after them', () => {
    const random = seeded(7);
    const counts = [0, 0, 0];
    for (let i = 0; i < 9000; i++)
      counts['xyz'.indexOf(orderSrv([srv('x', 0, 0), srv('y', 0, 0), srv('z', 0, 0)], random)[0]!.name)]!++;
    assert.ok(chiSquare(counts, [1 / 3, 1 / 3, 1 / 3]) < 9.21, `counts ${counts.join(', ')}`);
    // RFC 2782: a weight-0 record keeps a small chance (1 in total + 1) to come first
    let zeroFirst = 0;
    for (let i = 0; i < 6000; i++)
      if (orderSrv([srv('w', 0, 5), srv('zero', 0, 0)], random)[0]!.name === 'zero') zeroFirst++;
    assert.ok(zeroFirst > 800 && zeroFirst < 1200, `weight 0 first ${zeroFirst} times of 6000 (expected about 1000)`);
  });

  test('every record appears once in the order', () => {
    const records = [srv('a', 0, 1), srv('b', 5, 0), srv('c', 0, 3), srv('d', 5, 2)];
    const order = orderSrv(records, seeded(3));
    assert.deepEqual(order.map((r) => r.name).sort(), ['a', 'b', 'c', 'd']);
  });
});

describe('lookup domains and discovery', () => {
  test('search and domain lines of resolv.conf, in order, without duplicates or comments', () => {
    const conf =
      '# comment\nnameserver 127.0.0.53\ndomain corp.example\nsearch corp.example lab.example. # more\noptions edns0\n';
    assert.deepEqual(searchDomains(conf), ['corp.example', 'lab.example']);
    assert.deepEqual(searchDomains('nameserver 1.1.1.1\n'), []);
  });

  test('a domain without records is named, the others still give their hosts', async () => {
    const lookup = async (domain: string) => {
      if (domain === 'empty.example') throw Object.assign(new Error('not found'), { code: 'ENOTFOUND' });
      return [srv('kms1.corp.example.', 0, 0)];
    };
    const found = await discover(['empty.example', 'corp.example'], undefined, seeded(1), lookup);
    assert.deepEqual(found.targets, [
      { host: 'kms1.corp.example', port: 1688, from: 'corp.example', name: 'kms1.corp.example' },
    ]);
    assert.deepEqual(found.tried, ['_volact._tcp.empty.example: no such records']);
  });

  test('hostile SRV sets: "." and empty targets and port 0 are dropped, at most 16 hosts are tried', async () => {
    const hostile = async () => [srv('.', 0, 0), srv('', 0, 0), { ...srv('zero.example', 0, 0), port: 0 }];
    const none = await discover(['x.example'], undefined, seeded(1), hostile);
    assert.deepEqual([none.targets, none.tried], [[], ['_volact._tcp.x.example: no records']]);
    const huge = async () => Array.from({ length: 1000 }, (_, i) => srv(`h${i}.example`, 0, 1));
    assert.equal((await discover(['x.example'], undefined, seeded(1), huge)).targets.length, 16);
  });
});

describe('the DNS server setting (volact client dns-server)', () => {
  test('takes an IPv4 or IPv6 address with an optional port, in the form the resolver takes', () => {
    for (const [given, stored] of [
      ['10.0.0.53', '10.0.0.53'],
      ['10.0.0.53:53', '10.0.0.53'],
      ['127.0.0.1:5353', '127.0.0.1:5353'],
      ['fd00::53', 'fd00::53'],
      ['[fd00::53]', 'fd00::53'],
      ['[::1]:5353', '[::1]:5353'],
    ]) {
      assert.equal(parseDnsServer(given!), stored, given);
    }
  });

  test('refuses names, malformed addresses (USAGE) and ports out of range (VALUE_OUT_OF_RANGE)', () => {
    const code = (spec: string) => {
      try {
        parseDnsServer(spec);
        return 'accepted';
      } catch (err) {
        assert.ok(err instanceof VolactError, String(err));
        return err.code;
      }
    };
    for (const bad of [
      'ns1.example.com',
      'ns1.example.com:53',
      '',
      '10.0.0',
      '10.0.0.53:',
      '10.0.0.53:dns',
      '[10.0.0.53]:53',
      'fd00::53:5353x',
      '[fd00::53',
      'fd00::53]:53',
    ]) {
      assert.equal(code(bad), 'USAGE', bad);
    }
    for (const bad of ['10.0.0.53:0', '10.0.0.53:65536', '[::1]:99999', '10.0.0.53:123456'])
      assert.equal(code(bad), 'VALUE_OUT_OF_RANGE', bad);
  });
});
