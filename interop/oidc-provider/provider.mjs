// A real OpenID provider for bouncer's interop test: oidc-provider (the
// engine Logto is built on), issuing JWT access tokens through the
// client-credentials grant with resource indicators (RFC 8707).
//
//   node provider.mjs <port> [kid]
//
// Each start generates a new ES256 signing key named <kid>: restarting with
// another kid is a key rotation.
import { generateKeyPairSync } from 'node:crypto';
import Provider, { errors } from 'oidc-provider';

const port = Number(process.argv[2] ?? 0);
const kid = process.argv[3] ?? 'interop-key-1';
const issuer = `http://127.0.0.1:${port}`;
const RESOURCES = ['https://api.bouncer.test', 'https://other.bouncer.test'];
const SCOPE = 'documents:read documents:write';
// Opaque access tokens for this resource, checked by RFC 7662 introspection
// (the resource server authenticates as `introspector`, client_secret_basic).
const OPAQUE = 'https://opaque.bouncer.test';

const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const jwk = { ...privateKey.export({ format: 'jwk' }), kid, alg: 'ES256', use: 'sig' };

const provider = new Provider(issuer, {
  clients: [{
    client_id: 'svc-reporter',
    client_secret: 'interop-secret',
    grant_types: ['client_credentials'],
    redirect_uris: [],
    response_types: [],
    token_endpoint_auth_method: 'client_secret_post',
    scope: SCOPE,
    id_token_signed_response_alg: 'ES256',
  }, {
    client_id: 'introspector',
    client_secret: 'introspector-secret',
    grant_types: [],
    redirect_uris: [],
    response_types: [],
    token_endpoint_auth_method: 'client_secret_basic',
    id_token_signed_response_alg: 'ES256',
  }],
  jwks: { keys: [jwk] },
  scopes: ['openid', 'offline_access', 'documents:read', 'documents:write'],
  cookies: { keys: ['interop-cookie-key'] },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    // DPoP (RFC 9449): a token request with a DPoP proof gets a token bound
    // to the proof's key (`cnf.jkt`).
    dPoP: { enabled: true },
    introspection: { enabled: true },
    revocation: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => RESOURCES[0],
      useGrantedResource: () => true,
      getResourceServerInfo: (ctx, resource) => {
        if (resource === OPAQUE) return { scope: SCOPE, audience: resource, accessTokenFormat: 'opaque' };
        if (!RESOURCES.includes(resource)) throw new errors.InvalidTarget();
        return { scope: SCOPE, audience: resource, accessTokenFormat: 'jwt', jwt: { sign: { alg: 'ES256' } } };
      },
    },
  },
});

const server = provider.listen(port, '127.0.0.1', () => {
  console.log(`ready ${issuer} kid=${kid}`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
