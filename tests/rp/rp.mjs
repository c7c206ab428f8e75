// A relying party nobody here wrote: panva's certified openid-client, in two steps.
//   node rp.mjs start  ISSUER CLIENT_ID SECRET REDIRECT_URI [RESPONSE_MODE]
//                                                                -> {url, verifier, state, nonce}
//   node rp.mjs finish ISSUER CLIENT_ID SECRET CALLBACK_URL VERIFIER STATE NONCE [POSTED_BODY]
//                                                                -> {claims, userinfo, refreshed}
// With a POSTED_BODY (response_mode=form_post) the callback is the POST the browser made.
import * as client from "openid-client";

const [step, issuer, clientId, secret, ...rest] = process.argv.slice(2);
const config = await client.discovery(new URL(issuer), clientId, secret, undefined, {
  execute: [client.allowInsecureRequests],
});

if (step === "start") {
  const [redirectUri, responseMode] = rest;
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri,
    scope: "openid profile email offline_access",
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: "S256",
    state,
    nonce,
    ...(responseMode ? { response_mode: responseMode } : {}),
  });
  console.log(JSON.stringify({ url: url.href, verifier, state, nonce }));
} else {
  const [callback, verifier, state, nonce, posted] = rest;
  const answer = posted === undefined
    ? new URL(callback)
    : new Request(callback, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: posted,
    });
  // Checks iss (RFC 9207), state, the ID token's signature against the JWKS, nonce, aud, exp.
  const tokens = await client.authorizationCodeGrant(config, answer, {
    pkceCodeVerifier: verifier,
    expectedState: state,
    expectedNonce: nonce,
    idTokenExpected: true,
  });
  const claims = tokens.claims();
  const userinfo = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
  const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token);
  console.log(JSON.stringify({
    claims,
    userinfo,
    refreshed: Boolean(refreshed.access_token && refreshed.refresh_token !== tokens.refresh_token),
  }));
}
