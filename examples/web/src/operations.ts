import { graphql } from "./gql";

/*
 * Every GraphQL operation the app sends, in one place. `npm run web:codegen` reads the
 * graphql(`...`) calls below and writes their types to src/gql/, so each hook's data and
 * variables are typed from the gateway's schema.
 */

graphql(`
  fragment Tokens on AuthTokens {
    accessToken
    expiresIn
    tokenType
    refreshToken
  }
`);

graphql(`
  fragment Auth on AuthPayload {
    status
    mfaToken
    mfaMethods
    isNewUser
    tokens {
      ...Tokens
    }
  }
`);

graphql(`
  fragment Challenge on OtpChallenge {
    challengeId
    channel
    codeLength
    destinationHint
    expiresAt
    resendAvailableAt
  }
`);

export const SignUpDocument = graphql(`
  mutation SignUp($input: SignUpInput!) {
    signUp(input: $input) {
      ...Auth
    }
  }
`);

export const LoginDocument = graphql(`
  mutation Login($input: LoginInput!) {
    login(input: $input) {
      ...Auth
    }
  }
`);

export const RequestOtpDocument = graphql(`
  mutation RequestOtp($input: RequestOtpInput!) {
    requestOtp(input: $input) {
      ...Challenge
    }
  }
`);

export const VerifyOtpDocument = graphql(`
  mutation VerifyOtp($input: VerifyOtpInput!) {
    verifyOtp(input: $input) {
      ...Auth
    }
  }
`);

export const VerifyTotpDocument = graphql(`
  mutation VerifyTotp($input: VerifyTotpInput!) {
    verifyTotp(input: $input) {
      ...Auth
    }
  }
`);

export const UseRecoveryCodeDocument = graphql(`
  mutation UseRecoveryCode($input: UseRecoveryCodeInput!) {
    useRecoveryCode(input: $input) {
      ...Auth
    }
  }
`);

export const RequestMagicLinkDocument = graphql(`
  mutation RequestMagicLink($input: RequestMagicLinkInput!) {
    requestMagicLink(input: $input) {
      requestId
      listenToken
      matchCode
      expiresAt
    }
  }
`);

export const MagicLinkStatusDocument = graphql(`
  subscription MagicLinkStatus($requestId: ID!, $listenToken: String!) {
    magicLinkStatus(requestId: $requestId, listenToken: $listenToken) {
      requestId
      state
      auth {
        ...Auth
      }
    }
  }
`);

/** The configured providers, for the "Continue with …" buttons (public). */
export const IdentityProvidersDocument = graphql(`
  query IdentityProviders {
    identityProviders {
      id
      name
    }
  }
`);

export const StartSocialSignInDocument = graphql(`
  mutation StartSocialSignIn($input: StartSocialSignInInput!) {
    startSocialSignIn(input: $input) {
      authorizationUrl
    }
  }
`);

/** Trades the one-time code the gateway's callback put on the callback route's URL. */
export const CompleteSocialSignInDocument = graphql(`
  mutation CompleteSocialSignIn($input: CompleteSocialSignInInput!) {
    completeSocialSignIn(input: $input) {
      ...Auth
    }
  }
`);

/** The account page's linked identities, beside the providers one could link. */
export const IdentitiesDocument = graphql(`
  query Identities {
    me {
      id
      identities {
        id
        provider
        email
        createdAt
      }
    }
    identityProviders {
      id
      name
    }
  }
`);

export const LinkIdentityDocument = graphql(`
  mutation LinkIdentity($input: LinkIdentityInput!) {
    linkIdentity(input: $input) {
      authorizationUrl
    }
  }
`);

/** With the link_code the callback put on the URL; only the session that called linkIdentity may. */
export const CompleteLinkIdentityDocument = graphql(`
  mutation CompleteLinkIdentity($input: CompleteLinkIdentityInput!) {
    completeLinkIdentity(input: $input) {
      id
      provider
    }
  }
`);

export const UnlinkIdentityDocument = graphql(`
  mutation UnlinkIdentity($id: ID!) {
    unlinkIdentity(id: $id)
  }
`);

/** Without an argument the gateway reads the refresh cookie; with one it swaps it into the cookie. */
export const RefreshDocument = graphql(`
  mutation Refresh($refreshToken: String) {
    refreshTokens(refreshToken: $refreshToken) {
      ...Tokens
    }
  }
`);

export const LogoutDocument = graphql(`
  mutation Logout {
    logout
  }
`);

export const AccountDocument = graphql(`
  query Account {
    me {
      id
      email
      emailVerified
      phone
      phoneVerified
      totpEnabled
      hasPassword
      passkeys {
        ...Passkey
      }
    }
    sessions {
      id
      aal
      amr
      createdAt
      lastUsedAt
      userAgent
      ip
      current
    }
  }
`);

export const ChangePasswordDocument = graphql(`
  mutation ChangePassword($input: ChangePasswordInput!) {
    changePassword(input: $input)
  }
`);

export const RevokeOtherSessionsDocument = graphql(`
  mutation RevokeOtherSessions {
    revokeOtherSessions
  }
`);

export const RevokeSessionDocument = graphql(`
  mutation RevokeSession($id: ID!) {
    revokeSession(id: $id)
  }
`);

export const EnrollTotpDocument = graphql(`
  mutation EnrollTotp {
    enrollTotp {
      secret
      qrCodeDataUrl
      otpauthUrl
    }
  }
`);

export const ConfirmTotpDocument = graphql(`
  mutation ConfirmTotp($code: String!) {
    confirmTotp(code: $code) {
      codes
    }
  }
`);

export const DisableTotpDocument = graphql(`
  mutation DisableTotp($code: String!) {
    disableTotp(code: $code)
  }
`);

export const RegenerateRecoveryCodesDocument = graphql(`
  mutation RegenerateRecoveryCodes($code: String!) {
    regenerateRecoveryCodes(code: $code) {
      codes
    }
  }
`);

graphql(`
  fragment Passkey on Passkey {
    id
    name
    createdAt
    lastUsedAt
    backedUp
  }
`);

graphql(`
  fragment PasskeyOptions on PasskeyOptions {
    challengeId
    optionsJson
  }
`);

/** Sign-in (signed out, no mfaToken), the MFA step (mfaToken), or step-up (signed in). */
export const PasskeyAuthenticationOptionsDocument = graphql(`
  mutation PasskeyAuthenticationOptions($input: PasskeyAuthenticationOptionsInput) {
    passkeyAuthenticationOptions(input: $input) {
      ...PasskeyOptions
    }
  }
`);

export const VerifyPasskeyDocument = graphql(`
  mutation VerifyPasskey($input: VerifyPasskeyInput!) {
    verifyPasskey(input: $input) {
      ...Auth
    }
  }
`);

export const PasskeyRegistrationOptionsDocument = graphql(`
  mutation PasskeyRegistrationOptions {
    passkeyRegistrationOptions {
      ...PasskeyOptions
    }
  }
`);

export const AddPasskeyDocument = graphql(`
  mutation AddPasskey($input: AddPasskeyInput!) {
    addPasskey(input: $input) {
      ...Passkey
    }
  }
`);

export const RenamePasskeyDocument = graphql(`
  mutation RenamePasskey($input: RenamePasskeyInput!) {
    renamePasskey(input: $input) {
      ...Passkey
    }
  }
`);

export const RemovePasskeyDocument = graphql(`
  mutation RemovePasskey($id: ID!) {
    removePasskey(id: $id)
  }
`);
