# Rampart's hosted pages, in English. A message is `key = text`; `{ $name }` is filled in
# by the page. Keep every key of this file in the other languages' files too.

## Around every page
page-title = { $page } · { $app }
need-help = Need help?
switch-language = Lire en français
not-found-title = Page not found
not-found-body = There is no such app.
back-to-signin = Back to sign-in
form-errors = Please fix the following

## Fields
field-email = Email
field-identifier = Email or username
field-password = Password
field-new-password = New password
field-confirm-password = Confirm the password
field-current-password = Current password
field-name = Name (optional)
field-username = Username (optional)
field-display-name = Display name
field-destination = Email or phone number
field-destination-hint = A phone number in international form, like +14155550123.
field-code = Code
field-contact-kind = Kind
field-contact-value = Email or phone number
contact-kind-email = Email
contact-kind-phone = Phone

## The app's password policy
rules-title = Your password needs
rule-min-length = at least { $count } characters
rule-uppercase = an uppercase letter
rule-number = a number
rule-symbol = a symbol

## Inline checks (with JavaScript) and the server's answers
invalid-required = Fill in this field.
invalid-email = Enter an email address like name@example.com.
invalid-mismatch = The two passwords are not the same.
invalid-rules = The password does not meet every rule above.
error-title = Something is not right
error-csrf = This form expired. Try again.
error-invalid-credentials = The email, username or password is not right.
error-current-password = Your current password is not right.
error-invalid-email = Enter a valid email address.
error-invalid-phone = Enter a phone number in international form, like +14155550123.
error-user-exists = An account with this username or email already exists.
error-signup-disabled = Sign-up is closed for this app.
error-signin-disabled = Sign-in is turned off for this app.
error-rate-limited = Too many attempts. Wait a little, then try again.
error-invalid-otp = This code is wrong or has expired. Try again, or ask for a new one.
error-forbidden = This is not available for this app.
error-unavailable = We are busy right now. Try again in a moment.
error-invalid-request = Something in the form is not right. Check it and try again.
error-conflict = This cannot be done right now.
error-internal = Something went wrong on our side. Try again later.
error-redirect = The page to go back to is not one this app allows.
error-weak-password = The password does not meet the rules.
error-weak-password-rule = The password needs { $rule }.
error-display-name = Enter a name of at most 100 characters.
error-username = A username has 3 to 32 letters, digits, dots, dashes or underscores.
error-primary-contact = Choose another primary email before removing this one.
error-last-email = Your last verified email cannot be removed.

## Sign in
signin-title = Sign in
signin-intro = Sign in to { $app }.
signin-submit = Sign in
signin-forgot = Forgot your password?
signin-no-account = No account yet?
signin-signup-link = Create one
signin-other-ways = Other ways to sign in
signin-magic-link = Email me a sign-in link
signin-otp = Sign in with a one-time code

## Sign up
signup-title = Create your account
signup-intro = Create your { $app } account.
signup-submit = Create my account
signup-have-account = Already have an account?
signup-signin-link = Sign in

## Forgotten password
forgot-title = Forgot your password?
forgot-intro = We will email you a link to choose a new one.
forgot-submit = Send me a link
forgot-sent-title = Check your email
forgot-sent = If this address belongs to an account, a link to choose a new password is on its way.

## Sign-in links
magic-title = Sign in with a link
magic-intro = We will email you a link that signs you in once.
magic-submit = Email me a link
magic-sent-title = Check your email
magic-sent = If this address belongs to an account, a sign-in link is on its way.
token-title = Sign in
token-intro = Continue to sign in to { $app }.
token-submit = Sign in
token-done-title = You are signed in
token-done = Go back to the app to continue.

## One-time codes
otp-title = Sign in with a code
otp-intro = We will send a six-digit code to your email or phone.
otp-send = Send me a code
otp-code-title = Enter your code
otp-code-intro = If this email or phone belongs to an account, or the app lets you create one, a six-digit code is on its way.
otp-verify = Sign in
otp-resend = Send a new code

## Emailed links
verify-title = Confirm your email
verify-intro = Confirm that this address is yours to use it with { $app }.
verify-submit = Confirm my email
verify-done-title = Email confirmed
verify-done = You can sign in with this address now.
reset-title = Choose a new password
reset-submit = Change my password
reset-done-title = Password changed
reset-done = Sign in with your new password. Every device that was signed in has been signed out.
invite-title = Accept your invite
invite-intro = You are invited to { $app } as { $email }. Choose a password to finish.
invite-submit = Accept the invite
invite-dead-title = This invite no longer works
invite-dead = It was accepted already, has expired or was revoked. Ask for a new one.
org-invite-title = Join an organization
org-invite-intro = You are invited to join { $org } as { $email }.
org-invite-submit = Join the organization
org-invite-signin = You are invited to join { $org }. Sign in as { $email } (with that address verified), then open the link in the mail again.
org-invite-done-title = You joined the organization
org-invite-done = You are now a member. Switch to it in the app to act in it.
link-dead-title = This link no longer works
link-dead = It was used already, has expired, or a newer one replaced it. Ask for a new one.

## Signed out
signed-out-title = You are signed out
signed-out-body = You can close this page, or sign in again.
sign-in-again = Sign in again

## Account
account-title = Your account
account-signed-in-as = Signed in as { $name } ({ $username }).
sign-out = Sign out
profile-title = Profile
profile-save = Save
password-title = Change your password
password-note = Your other devices will be signed out.
password-submit = Change my password
sessions-title = Where you are signed in
session-device = Device
session-ip = IP address
session-last-used = Last used
session-current = This device
session-unknown = Unknown
session-sign-out = Sign out
session-sign-out-label = Sign out the session of { $device }
contacts-title = Emails and phone numbers
contacts-note = Changes to your emails and phone numbers ask for your current password.
contact-primary = Primary
contact-verified = Verified
contact-unverified = Not verified
contact-make-primary = Make primary
contact-remove = Remove
contact-send-code = Send me a code
contact-code-submit = Verify
contact-add-title = Add an email or phone number
contact-add-submit = Add
contact-actions-label = Change { $contact }
done-profile = Your profile was saved.
done-password = Your password was changed, and your other sessions were signed out.
done-session = That session was signed out.
done-contact-added = The contact was added. Verify it to use it.
done-contact-removed = The contact was removed.
done-primary = Your primary email was changed.
done-code-sent = A code is on its way. Type it below to verify the contact.
done-verified = The contact is verified.
done-signed-up = Welcome! Check your email to confirm your address.
done-welcome = Welcome!
done-signed-in = You are signed in.

# The app as an OpenID Connect provider: refused requests, consent, sign-out.
oauth-error-title = This request cannot continue
oauth-unknown-client = The application that sent you here is not registered with this service. Go back and try again, or contact its developers.
oauth-bad-redirect-uri = The application that sent you here asked to return to an address it has not registered, so you were not sent there.
oauth-logout-hint = This sign-out request cannot be checked: it does not name a valid sign-in.
consent-title = Allow access?
consent-intro = { $client } wants to use your { $app } account.
consent-scopes = It asks to:
consent-scope-openid = Know who you are
consent-scope-profile = See your name and username
consent-scope-email = See your email address
consent-scope-phone = See your phone number
consent-scope-offline_access = Keep access while you are away
consent-allow = Allow
consent-deny = Deny
## Sign-in through external providers
signin-with-provider = Continue with { $provider }
signin-providers = Other ways to sign in
oauth-failed-title = Sign-in not completed
oauth-error-state = This sign-in expired or was already used. Start again.
oauth-error-provider = The provider did not sign you in.
oauth-error-verification = The provider's answer could not be verified. Try again.
oauth-error-unavailable = The provider could not be reached. Try again later.
oauth-error-account-exists = An account with this email already exists. Sign in the way you usually do, then link { $provider } from your account page.
oauth-error-identity-taken = This account at { $provider } is already linked to another user, or you already have one linked.
oauth-back = Back to sign-in
identities-title = Sign-in providers
identities-none = No provider is linked to your account.
identity-provider = Provider
identity-email = Email there
identity-unlink = Unlink
identity-unlink-label = Unlink { $provider }
identity-link = Link { $provider }
error-last-method = This is your only way to sign in: set a password or link another provider first.
done-linked = The provider is linked to your account.
done-unlinked = The provider is unlinked.
