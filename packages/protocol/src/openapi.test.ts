import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { VolactError, errorBody } from './errors.js';
import { codesOf, openApiDocument, operationIdOf, type Operation } from './openapi.js';
import { anyOf, constant, errorBodySchema, increaseFiledSchema } from './responses.js';
import { obj, str } from './schema.js';

describe('API descriptions', () => {
  test('operation IDs are the method and the path in camelCase, without the version', () => {
    assert.equal(operationIdOf('GET /v1/admin/host-keys'), 'getAdminHostKeys');
    assert.equal(operationIdOf('POST /v1/increase-requests/status'), 'postIncreaseRequestsStatus');
    assert.equal(operationIdOf('GET /v1/openapi.json'), 'getOpenapiJson');
  });

  test('an operation answers its own codes, the common ones, those of a body and of a token', () => {
    const op: Operation = { summary: 's', tag: 't', scope: 'read', body: obj({}), errors: ['REQUEST_UNKNOWN'] };
    const codes = codesOf({ common: ['INTERNAL'] }, op);
    for (const c of [
      'INTERNAL',
      'BAD_JSON',
      'BODY_TOO_LARGE',
      'UNSUPPORTED_MEDIA_TYPE',
      'TOKEN_SCOPE',
      'REQUEST_UNKNOWN',
    ])
      assert.ok(codes.includes(c as never), c);
    assert.deepEqual(codesOf({ common: [] }, { summary: 's', tag: 't' }), []);
  });

  test('error answers are grouped by status, each naming exactly its codes; 429 has Retry-After', () => {
    const doc = openApiDocument(
      { title: 't', description: 'd', tags: [{ name: 't', description: 'd' }], common: ['INTERNAL'] },
      {
        'POST /v1/x': {
          summary: 's',
          tag: 't',
          body: obj({}),
          response: increaseFiledSchema,
          errors: ['RATE_LIMITED'],
        },
      },
    ) as any;
    const responses = doc.paths['/v1/x'].post.responses;
    assert.deepEqual(Object.keys(responses), ['200', '400', '413', '415', '429', '500']);
    assert.deepEqual(responses['400'].content['application/json'].schema.allOf[1].properties.code.enum, [
      'BAD_JSON',
      'BAD_REQUEST',
      'BAD_ENCODING',
      'REQUEST_INCOMPLETE',
    ]);
    assert.ok(responses['429'].headers['Retry-After']);
    assert.equal(responses['200'].content['application/json'].schema.properties.state.enum[0], 'pending');
    assert.deepEqual(doc.paths['/v1/x'].post.security, []);
  });

  test('the error body schema reads what errorBody writes, and refuses a code outside its list', () => {
    const body = errorBody(new VolactError('KEY_TYPO'), 'req-1');
    assert.equal(errorBodySchema().check(body, ''), undefined);
    assert.match(errorBodySchema(['INTERNAL']).check(body, '')?.problem ?? '', /must be one of INTERNAL/);
  });

  test('anyOf passes when one schema does; constant takes only its value', () => {
    const s = anyOf<unknown>(obj({ ok: constant(true) }), obj({ ok: constant(false), why: str({ max: 9 }) }));
    assert.equal(s.check({ ok: true }, ''), undefined);
    assert.equal(s.check({ ok: false, why: 'x' }, ''), undefined);
    assert.ok(s.check({ ok: false }, ''));
    assert.ok(constant(true).check('true', ''));
  });
});
