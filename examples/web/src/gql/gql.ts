/* eslint-disable */
import * as types from './graphql';
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';

/**
 * Map of all GraphQL operations in the project.
 *
 * This map has several performance disadvantages:
 * 1. It is not tree-shakeable, so it will include all operations in the project.
 * 2. It is not minifiable, so the string of a GraphQL query will be multiple times inside the bundle.
 * 3. It does not support dead code elimination, so it will add unused operations.
 *
 * Therefore it is highly recommended to use the babel or swc plugin for production.
 * Learn more about it here: https://the-guild.dev/graphql/codegen/plugins/presets/preset-client#reducing-bundle-size
 */
type Documents = {
    "\n  fragment Tokens on AuthTokens {\n    accessToken\n    expiresIn\n    tokenType\n    refreshToken\n  }\n": typeof types.TokensFragmentDoc,
    "\n  fragment Auth on AuthPayload {\n    status\n    mfaToken\n    mfaMethods\n    isNewUser\n    tokens {\n      ...Tokens\n    }\n  }\n": typeof types.AuthFragmentDoc,
    "\n  fragment Challenge on OtpChallenge {\n    challengeId\n    channel\n    codeLength\n    destinationHint\n    expiresAt\n    resendAvailableAt\n  }\n": typeof types.ChallengeFragmentDoc,
    "\n  mutation SignUp($input: SignUpInput!) {\n    signUp(input: $input) {\n      ...Auth\n    }\n  }\n": typeof types.SignUpDocument,
    "\n  mutation Login($input: LoginInput!) {\n    login(input: $input) {\n      ...Auth\n    }\n  }\n": typeof types.LoginDocument,
    "\n  mutation RequestOtp($input: RequestOtpInput!) {\n    requestOtp(input: $input) {\n      ...Challenge\n    }\n  }\n": typeof types.RequestOtpDocument,
    "\n  mutation VerifyOtp($input: VerifyOtpInput!) {\n    verifyOtp(input: $input) {\n      ...Auth\n    }\n  }\n": typeof types.VerifyOtpDocument,
    "\n  mutation VerifyTotp($input: VerifyTotpInput!) {\n    verifyTotp(input: $input) {\n      ...Auth\n    }\n  }\n": typeof types.VerifyTotpDocument,
    "\n  mutation UseRecoveryCode($input: UseRecoveryCodeInput!) {\n    useRecoveryCode(input: $input) {\n      ...Auth\n    }\n  }\n": typeof types.UseRecoveryCodeDocument,
    "\n  mutation RequestMagicLink($input: RequestMagicLinkInput!) {\n    requestMagicLink(input: $input) {\n      requestId\n      listenToken\n      matchCode\n      expiresAt\n    }\n  }\n": typeof types.RequestMagicLinkDocument,
    "\n  subscription MagicLinkStatus($requestId: ID!, $listenToken: String!) {\n    magicLinkStatus(requestId: $requestId, listenToken: $listenToken) {\n      requestId\n      state\n      auth {\n        ...Auth\n      }\n    }\n  }\n": typeof types.MagicLinkStatusDocument,
    "\n  query IdentityProviders {\n    identityProviders {\n      id\n      name\n    }\n  }\n": typeof types.IdentityProvidersDocument,
    "\n  mutation StartSocialSignIn($input: StartSocialSignInInput!) {\n    startSocialSignIn(input: $input) {\n      authorizationUrl\n    }\n  }\n": typeof types.StartSocialSignInDocument,
    "\n  mutation CompleteSocialSignIn($input: CompleteSocialSignInInput!) {\n    completeSocialSignIn(input: $input) {\n      ...Auth\n    }\n  }\n": typeof types.CompleteSocialSignInDocument,
    "\n  query Identities {\n    me {\n      id\n      identities {\n        id\n        provider\n        email\n        createdAt\n      }\n    }\n    identityProviders {\n      id\n      name\n    }\n  }\n": typeof types.IdentitiesDocument,
    "\n  mutation LinkIdentity($input: LinkIdentityInput!) {\n    linkIdentity(input: $input) {\n      authorizationUrl\n    }\n  }\n": typeof types.LinkIdentityDocument,
    "\n  mutation CompleteLinkIdentity($input: CompleteLinkIdentityInput!) {\n    completeLinkIdentity(input: $input) {\n      id\n      provider\n    }\n  }\n": typeof types.CompleteLinkIdentityDocument,
    "\n  mutation UnlinkIdentity($id: ID!) {\n    unlinkIdentity(id: $id)\n  }\n": typeof types.UnlinkIdentityDocument,
    "\n  mutation Refresh($refreshToken: String) {\n    refreshTokens(refreshToken: $refreshToken) {\n      ...Tokens\n    }\n  }\n": typeof types.RefreshDocument,
    "\n  mutation Logout {\n    logout\n  }\n": typeof types.LogoutDocument,
    "\n  query Account {\n    me {\n      id\n      email\n      emailVerified\n      phone\n      phoneVerified\n      totpEnabled\n      hasPassword\n      passkeys {\n        ...Passkey\n      }\n    }\n    sessions {\n      id\n      aal\n      amr\n      createdAt\n      lastUsedAt\n      userAgent\n      ip\n      current\n    }\n  }\n": typeof types.AccountDocument,
    "\n  mutation ChangePassword($input: ChangePasswordInput!) {\n    changePassword(input: $input)\n  }\n": typeof types.ChangePasswordDocument,
    "\n  mutation RevokeOtherSessions {\n    revokeOtherSessions\n  }\n": typeof types.RevokeOtherSessionsDocument,
    "\n  mutation RevokeSession($id: ID!) {\n    revokeSession(id: $id)\n  }\n": typeof types.RevokeSessionDocument,
    "\n  mutation EnrollTotp {\n    enrollTotp {\n      secret\n      qrCodeDataUrl\n      otpauthUrl\n    }\n  }\n": typeof types.EnrollTotpDocument,
    "\n  mutation ConfirmTotp($code: String!) {\n    confirmTotp(code: $code) {\n      codes\n    }\n  }\n": typeof types.ConfirmTotpDocument,
    "\n  mutation DisableTotp($code: String!) {\n    disableTotp(code: $code)\n  }\n": typeof types.DisableTotpDocument,
    "\n  mutation RegenerateRecoveryCodes($code: String!) {\n    regenerateRecoveryCodes(code: $code) {\n      codes\n    }\n  }\n": typeof types.RegenerateRecoveryCodesDocument,
    "\n  fragment Passkey on Passkey {\n    id\n    name\n    createdAt\n    lastUsedAt\n    backedUp\n  }\n": typeof types.PasskeyFragmentDoc,
    "\n  fragment PasskeyOptions on PasskeyOptions {\n    challengeId\n    optionsJson\n  }\n": typeof types.PasskeyOptionsFragmentDoc,
    "\n  mutation PasskeyAuthenticationOptions($input: PasskeyAuthenticationOptionsInput) {\n    passkeyAuthenticationOptions(input: $input) {\n      ...PasskeyOptions\n    }\n  }\n": typeof types.PasskeyAuthenticationOptionsDocument,
    "\n  mutation VerifyPasskey($input: VerifyPasskeyInput!) {\n    verifyPasskey(input: $input) {\n      ...Auth\n    }\n  }\n": typeof types.VerifyPasskeyDocument,
    "\n  mutation PasskeyRegistrationOptions {\n    passkeyRegistrationOptions {\n      ...PasskeyOptions\n    }\n  }\n": typeof types.PasskeyRegistrationOptionsDocument,
    "\n  mutation AddPasskey($input: AddPasskeyInput!) {\n    addPasskey(input: $input) {\n      ...Passkey\n    }\n  }\n": typeof types.AddPasskeyDocument,
    "\n  mutation RenamePasskey($input: RenamePasskeyInput!) {\n    renamePasskey(input: $input) {\n      ...Passkey\n    }\n  }\n": typeof types.RenamePasskeyDocument,
    "\n  mutation RemovePasskey($id: ID!) {\n    removePasskey(id: $id)\n  }\n": typeof types.RemovePasskeyDocument,
};
const documents: Documents = {
    "\n  fragment Tokens on AuthTokens {\n    accessToken\n    expiresIn\n    tokenType\n    refreshToken\n  }\n": types.TokensFragmentDoc,
    "\n  fragment Auth on AuthPayload {\n    status\n    mfaToken\n    mfaMethods\n    isNewUser\n    tokens {\n      ...Tokens\n    }\n  }\n": types.AuthFragmentDoc,
    "\n  fragment Challenge on OtpChallenge {\n    challengeId\n    channel\n    codeLength\n    destinationHint\n    expiresAt\n    resendAvailableAt\n  }\n": types.ChallengeFragmentDoc,
    "\n  mutation SignUp($input: SignUpInput!) {\n    signUp(input: $input) {\n      ...Auth\n    }\n  }\n": types.SignUpDocument,
    "\n  mutation Login($input: LoginInput!) {\n    login(input: $input) {\n      ...Auth\n    }\n  }\n": types.LoginDocument,
    "\n  mutation RequestOtp($input: RequestOtpInput!) {\n    requestOtp(input: $input) {\n      ...Challenge\n    }\n  }\n": types.RequestOtpDocument,
    "\n  mutation VerifyOtp($input: VerifyOtpInput!) {\n    verifyOtp(input: $input) {\n      ...Auth\n    }\n  }\n": types.VerifyOtpDocument,
    "\n  mutation VerifyTotp($input: VerifyTotpInput!) {\n    verifyTotp(input: $input) {\n      ...Auth\n    }\n  }\n": types.VerifyTotpDocument,
    "\n  mutation UseRecoveryCode($input: UseRecoveryCodeInput!) {\n    useRecoveryCode(input: $input) {\n      ...Auth\n    }\n  }\n": types.UseRecoveryCodeDocument,
    "\n  mutation RequestMagicLink($input: RequestMagicLinkInput!) {\n    requestMagicLink(input: $input) {\n      requestId\n      listenToken\n      matchCode\n      expiresAt\n    }\n  }\n": types.RequestMagicLinkDocument,
    "\n  subscription MagicLinkStatus($requestId: ID!, $listenToken: String!) {\n    magicLinkStatus(requestId: $requestId, listenToken: $listenToken) {\n      requestId\n      state\n      auth {\n        ...Auth\n      }\n    }\n  }\n": types.MagicLinkStatusDocument,
    "\n  query IdentityProviders {\n    identityProviders {\n      id\n      name\n    }\n  }\n": types.IdentityProvidersDocument,
    "\n  mutation StartSocialSignIn($input: StartSocialSignInInput!) {\n    startSocialSignIn(input: $input) {\n      authorizationUrl\n    }\n  }\n": types.StartSocialSignInDocument,
    "\n  mutation CompleteSocialSignIn($input: CompleteSocialSignInInput!) {\n    completeSocialSignIn(input: $input) {\n      ...Auth\n    }\n  }\n": types.CompleteSocialSignInDocument,
    "\n  query Identities {\n    me {\n      id\n      identities {\n        id\n        provider\n        email\n        createdAt\n      }\n    }\n    identityProviders {\n      id\n      name\n    }\n  }\n": types.IdentitiesDocument,
    "\n  mutation LinkIdentity($input: LinkIdentityInput!) {\n    linkIdentity(input: $input) {\n      authorizationUrl\n    }\n  }\n": types.LinkIdentityDocument,
    "\n  mutation CompleteLinkIdentity($input: CompleteLinkIdentityInput!) {\n    completeLinkIdentity(input: $input) {\n      id\n      provider\n    }\n  }\n": types.CompleteLinkIdentityDocument,
    "\n  mutation UnlinkIdentity($id: ID!) {\n    unlinkIdentity(id: $id)\n  }\n": types.UnlinkIdentityDocument,
    "\n  mutation Refresh($refreshToken: String) {\n    refreshTokens(refreshToken: $refreshToken) {\n      ...Tokens\n    }\n  }\n": types.RefreshDocument,
    "\n  mutation Logout {\n    logout\n  }\n": types.LogoutDocument,
    "\n  query Account {\n    me {\n      id\n      email\n      emailVerified\n      phone\n      phoneVerified\n      totpEnabled\n      hasPassword\n      passkeys {\n        ...Passkey\n      }\n    }\n    sessions {\n      id\n      aal\n      amr\n      createdAt\n      lastUsedAt\n      userAgent\n      ip\n      current\n    }\n  }\n": types.AccountDocument,
    "\n  mutation ChangePassword($input: ChangePasswordInput!) {\n    changePassword(input: $input)\n  }\n": types.ChangePasswordDocument,
    "\n  mutation RevokeOtherSessions {\n    revokeOtherSessions\n  }\n": types.RevokeOtherSessionsDocument,
    "\n  mutation RevokeSession($id: ID!) {\n    revokeSession(id: $id)\n  }\n": types.RevokeSessionDocument,
    "\n  mutation EnrollTotp {\n    enrollTotp {\n      secret\n      qrCodeDataUrl\n      otpauthUrl\n    }\n  }\n": types.EnrollTotpDocument,
    "\n  mutation ConfirmTotp($code: String!) {\n    confirmTotp(code: $code) {\n      codes\n    }\n  }\n": types.ConfirmTotpDocument,
    "\n  mutation DisableTotp($code: String!) {\n    disableTotp(code: $code)\n  }\n": types.DisableTotpDocument,
    "\n  mutation RegenerateRecoveryCodes($code: String!) {\n    regenerateRecoveryCodes(code: $code) {\n      codes\n    }\n  }\n": types.RegenerateRecoveryCodesDocument,
    "\n  fragment Passkey on Passkey {\n    id\n    name\n    createdAt\n    lastUsedAt\n    backedUp\n  }\n": types.PasskeyFragmentDoc,
    "\n  fragment PasskeyOptions on PasskeyOptions {\n    challengeId\n    optionsJson\n  }\n": types.PasskeyOptionsFragmentDoc,
    "\n  mutation PasskeyAuthenticationOptions($input: PasskeyAuthenticationOptionsInput) {\n    passkeyAuthenticationOptions(input: $input) {\n      ...PasskeyOptions\n    }\n  }\n": types.PasskeyAuthenticationOptionsDocument,
    "\n  mutation VerifyPasskey($input: VerifyPasskeyInput!) {\n    verifyPasskey(input: $input) {\n      ...Auth\n    }\n  }\n": types.VerifyPasskeyDocument,
    "\n  mutation PasskeyRegistrationOptions {\n    passkeyRegistrationOptions {\n      ...PasskeyOptions\n    }\n  }\n": types.PasskeyRegistrationOptionsDocument,
    "\n  mutation AddPasskey($input: AddPasskeyInput!) {\n    addPasskey(input: $input) {\n      ...Passkey\n    }\n  }\n": types.AddPasskeyDocument,
    "\n  mutation RenamePasskey($input: RenamePasskeyInput!) {\n    renamePasskey(input: $input) {\n      ...Passkey\n    }\n  }\n": types.RenamePasskeyDocument,
    "\n  mutation RemovePasskey($id: ID!) {\n    removePasskey(id: $id)\n  }\n": types.RemovePasskeyDocument,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 *
 *
 * @example
 * ```ts
 * const query = graphql(`query GetUser($id: ID!) { user(id: $id) { name } }`);
 * ```
 *
 * The query argument is unknown!
 * Please regenerate the types.
 */
export function graphql(source: string): unknown;

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment Tokens on AuthTokens {\n    accessToken\n    expiresIn\n    tokenType\n    refreshToken\n  }\n"): (typeof documents)["\n  fragment Tokens on AuthTokens {\n    accessToken\n    expiresIn\n    tokenType\n    refreshToken\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment Auth on AuthPayload {\n    status\n    mfaToken\n    mfaMethods\n    isNewUser\n    tokens {\n      ...Tokens\n    }\n  }\n"): (typeof documents)["\n  fragment Auth on AuthPayload {\n    status\n    mfaToken\n    mfaMethods\n    isNewUser\n    tokens {\n      ...Tokens\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment Challenge on OtpChallenge {\n    challengeId\n    channel\n    codeLength\n    destinationHint\n    expiresAt\n    resendAvailableAt\n  }\n"): (typeof documents)["\n  fragment Challenge on OtpChallenge {\n    challengeId\n    channel\n    codeLength\n    destinationHint\n    expiresAt\n    resendAvailableAt\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation SignUp($input: SignUpInput!) {\n    signUp(input: $input) {\n      ...Auth\n    }\n  }\n"): (typeof documents)["\n  mutation SignUp($input: SignUpInput!) {\n    signUp(input: $input) {\n      ...Auth\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation Login($input: LoginInput!) {\n    login(input: $input) {\n      ...Auth\n    }\n  }\n"): (typeof documents)["\n  mutation Login($input: LoginInput!) {\n    login(input: $input) {\n      ...Auth\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RequestOtp($input: RequestOtpInput!) {\n    requestOtp(input: $input) {\n      ...Challenge\n    }\n  }\n"): (typeof documents)["\n  mutation RequestOtp($input: RequestOtpInput!) {\n    requestOtp(input: $input) {\n      ...Challenge\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation VerifyOtp($input: VerifyOtpInput!) {\n    verifyOtp(input: $input) {\n      ...Auth\n    }\n  }\n"): (typeof documents)["\n  mutation VerifyOtp($input: VerifyOtpInput!) {\n    verifyOtp(input: $input) {\n      ...Auth\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation VerifyTotp($input: VerifyTotpInput!) {\n    verifyTotp(input: $input) {\n      ...Auth\n    }\n  }\n"): (typeof documents)["\n  mutation VerifyTotp($input: VerifyTotpInput!) {\n    verifyTotp(input: $input) {\n      ...Auth\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation UseRecoveryCode($input: UseRecoveryCodeInput!) {\n    useRecoveryCode(input: $input) {\n      ...Auth\n    }\n  }\n"): (typeof documents)["\n  mutation UseRecoveryCode($input: UseRecoveryCodeInput!) {\n    useRecoveryCode(input: $input) {\n      ...Auth\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RequestMagicLink($input: RequestMagicLinkInput!) {\n    requestMagicLink(input: $input) {\n      requestId\n      listenToken\n      matchCode\n      expiresAt\n    }\n  }\n"): (typeof documents)["\n  mutation RequestMagicLink($input: RequestMagicLinkInput!) {\n    requestMagicLink(input: $input) {\n      requestId\n      listenToken\n      matchCode\n      expiresAt\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription MagicLinkStatus($requestId: ID!, $listenToken: String!) {\n    magicLinkStatus(requestId: $requestId, listenToken: $listenToken) {\n      requestId\n      state\n      auth {\n        ...Auth\n      }\n    }\n  }\n"): (typeof documents)["\n  subscription MagicLinkStatus($requestId: ID!, $listenToken: String!) {\n    magicLinkStatus(requestId: $requestId, listenToken: $listenToken) {\n      requestId\n      state\n      auth {\n        ...Auth\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query IdentityProviders {\n    identityProviders {\n      id\n      name\n    }\n  }\n"): (typeof documents)["\n  query IdentityProviders {\n    identityProviders {\n      id\n      name\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation StartSocialSignIn($input: StartSocialSignInInput!) {\n    startSocialSignIn(input: $input) {\n      authorizationUrl\n    }\n  }\n"): (typeof documents)["\n  mutation StartSocialSignIn($input: StartSocialSignInInput!) {\n    startSocialSignIn(input: $input) {\n      authorizationUrl\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CompleteSocialSignIn($input: CompleteSocialSignInInput!) {\n    completeSocialSignIn(input: $input) {\n      ...Auth\n    }\n  }\n"): (typeof documents)["\n  mutation CompleteSocialSignIn($input: CompleteSocialSignInInput!) {\n    completeSocialSignIn(input: $input) {\n      ...Auth\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Identities {\n    me {\n      id\n      identities {\n        id\n        provider\n        email\n        createdAt\n      }\n    }\n    identityProviders {\n      id\n      name\n    }\n  }\n"): (typeof documents)["\n  query Identities {\n    me {\n      id\n      identities {\n        id\n        provider\n        email\n        createdAt\n      }\n    }\n    identityProviders {\n      id\n      name\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation LinkIdentity($input: LinkIdentityInput!) {\n    linkIdentity(input: $input) {\n      authorizationUrl\n    }\n  }\n"): (typeof documents)["\n  mutation LinkIdentity($input: LinkIdentityInput!) {\n    linkIdentity(input: $input) {\n      authorizationUrl\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CompleteLinkIdentity($input: CompleteLinkIdentityInput!) {\n    completeLinkIdentity(input: $input) {\n      id\n      provider\n    }\n  }\n"): (typeof documents)["\n  mutation CompleteLinkIdentity($input: CompleteLinkIdentityInput!) {\n    completeLinkIdentity(input: $input) {\n      id\n      provider\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation UnlinkIdentity($id: ID!) {\n    unlinkIdentity(id: $id)\n  }\n"): (typeof documents)["\n  mutation UnlinkIdentity($id: ID!) {\n    unlinkIdentity(id: $id)\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation Refresh($refreshToken: String) {\n    refreshTokens(refreshToken: $refreshToken) {\n      ...Tokens\n    }\n  }\n"): (typeof documents)["\n  mutation Refresh($refreshToken: String) {\n    refreshTokens(refreshToken: $refreshToken) {\n      ...Tokens\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation Logout {\n    logout\n  }\n"): (typeof documents)["\n  mutation Logout {\n    logout\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Account {\n    me {\n      id\n      email\n      emailVerified\n      phone\n      phoneVerified\n      totpEnabled\n      hasPassword\n      passkeys {\n        ...Passkey\n      }\n    }\n    sessions {\n      id\n      aal\n      amr\n      createdAt\n      lastUsedAt\n      userAgent\n      ip\n      current\n    }\n  }\n"): (typeof documents)["\n  query Account {\n    me {\n      id\n      email\n      emailVerified\n      phone\n      phoneVerified\n      totpEnabled\n      hasPassword\n      passkeys {\n        ...Passkey\n      }\n    }\n    sessions {\n      id\n      aal\n      amr\n      createdAt\n      lastUsedAt\n      userAgent\n      ip\n      current\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ChangePassword($input: ChangePasswordInput!) {\n    changePassword(input: $input)\n  }\n"): (typeof documents)["\n  mutation ChangePassword($input: ChangePasswordInput!) {\n    changePassword(input: $input)\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RevokeOtherSessions {\n    revokeOtherSessions\n  }\n"): (typeof documents)["\n  mutation RevokeOtherSessions {\n    revokeOtherSessions\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RevokeSession($id: ID!) {\n    revokeSession(id: $id)\n  }\n"): (typeof documents)["\n  mutation RevokeSession($id: ID!) {\n    revokeSession(id: $id)\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation EnrollTotp {\n    enrollTotp {\n      secret\n      qrCodeDataUrl\n      otpauthUrl\n    }\n  }\n"): (typeof documents)["\n  mutation EnrollTotp {\n    enrollTotp {\n      secret\n      qrCodeDataUrl\n      otpauthUrl\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ConfirmTotp($code: String!) {\n    confirmTotp(code: $code) {\n      codes\n    }\n  }\n"): (typeof documents)["\n  mutation ConfirmTotp($code: String!) {\n    confirmTotp(code: $code) {\n      codes\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation DisableTotp($code: String!) {\n    disableTotp(code: $code)\n  }\n"): (typeof documents)["\n  mutation DisableTotp($code: String!) {\n    disableTotp(code: $code)\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RegenerateRecoveryCodes($code: String!) {\n    regenerateRecoveryCodes(code: $code) {\n      codes\n    }\n  }\n"): (typeof documents)["\n  mutation RegenerateRecoveryCodes($code: String!) {\n    regenerateRecoveryCodes(code: $code) {\n      codes\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment Passkey on Passkey {\n    id\n    name\n    createdAt\n    lastUsedAt\n    backedUp\n  }\n"): (typeof documents)["\n  fragment Passkey on Passkey {\n    id\n    name\n    createdAt\n    lastUsedAt\n    backedUp\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment PasskeyOptions on PasskeyOptions {\n    challengeId\n    optionsJson\n  }\n"): (typeof documents)["\n  fragment PasskeyOptions on PasskeyOptions {\n    challengeId\n    optionsJson\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation PasskeyAuthenticationOptions($input: PasskeyAuthenticationOptionsInput) {\n    passkeyAuthenticationOptions(input: $input) {\n      ...PasskeyOptions\n    }\n  }\n"): (typeof documents)["\n  mutation PasskeyAuthenticationOptions($input: PasskeyAuthenticationOptionsInput) {\n    passkeyAuthenticationOptions(input: $input) {\n      ...PasskeyOptions\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation VerifyPasskey($input: VerifyPasskeyInput!) {\n    verifyPasskey(input: $input) {\n      ...Auth\n    }\n  }\n"): (typeof documents)["\n  mutation VerifyPasskey($input: VerifyPasskeyInput!) {\n    verifyPasskey(input: $input) {\n      ...Auth\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation PasskeyRegistrationOptions {\n    passkeyRegistrationOptions {\n      ...PasskeyOptions\n    }\n  }\n"): (typeof documents)["\n  mutation PasskeyRegistrationOptions {\n    passkeyRegistrationOptions {\n      ...PasskeyOptions\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation AddPasskey($input: AddPasskeyInput!) {\n    addPasskey(input: $input) {\n      ...Passkey\n    }\n  }\n"): (typeof documents)["\n  mutation AddPasskey($input: AddPasskeyInput!) {\n    addPasskey(input: $input) {\n      ...Passkey\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RenamePasskey($input: RenamePasskeyInput!) {\n    renamePasskey(input: $input) {\n      ...Passkey\n    }\n  }\n"): (typeof documents)["\n  mutation RenamePasskey($input: RenamePasskeyInput!) {\n    renamePasskey(input: $input) {\n      ...Passkey\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RemovePasskey($id: ID!) {\n    removePasskey(id: $id)\n  }\n"): (typeof documents)["\n  mutation RemovePasskey($id: ID!) {\n    removePasskey(id: $id)\n  }\n"];

export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}

export type DocumentType<TDocumentNode extends DocumentNode<any, any>> = TDocumentNode extends DocumentNode<  infer TType,  any>  ? TType  : never;