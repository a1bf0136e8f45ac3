// Proves that the web apps have a plain message for every error code the platform can answer
// with (src/platform/errors.ts), and show the server's detail only where it says what to fix.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { errorStatus } from '../../src/platform/errors.ts';
import { ApiError } from '../../web/src/shared/api.ts';
import { errorMessages, messageFor } from '../../web/src/shared/errors.ts';

describe('web error messages', () => {
  it('cover every error code of the platform', () => {
    const missing = Object.keys(errorStatus).filter((code) => !errorMessages[code]);
    assert.deepEqual(missing, []);
  });

  it('use the stable code, with the detail for fixable refusals', () => {
    assert.equal(
      messageFor(new ApiError(401, 'INVALID_CREDENTIALS', 'wrong email or password')),
      'Wrong email or password.',
    );
    assert.match(
      messageFor(new ApiError(400, 'INVALID_REQUEST', 'password: at least 10 characters')),
      /check what you entered\. \(password: at least 10 characters\)/,
    );
    assert.match(
      messageFor(new ApiError(429, 'RATE_LIMITED', 'too many requests', 30)),
      /Try again in 30 s\./,
    );
    assert.match(messageFor(new ApiError(418, 'SOMETHING_NEW', '')), /\(SOMETHING_NEW\)/);
  });
});
