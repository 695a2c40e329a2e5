# Rampart's mail and text messages, in English. A message is `key = text`; `{ $name }` is
# filled in by Rampart. Keep the same keys in every language's file.

## Durations ("The link lasts 3 days")
duration-minutes = { $n ->
    [one] { $n } minute
   *[other] { $n } minutes
}
duration-hours = { $n ->
    [one] { $n } hour
   *[other] { $n } hours
}
duration-days = { $n ->
    [one] { $n } day
   *[other] { $n } days
}

## Every message
mail-greeting = Hello,
mail-greeting-name = Hello { $name },
mail-ignore = If you did not ask for this, you can ignore this message.
mail-not-you = If this was not you, reset your password at once and tell the app's support.
mail-link-lasts = The link lasts { $lasts } and works once.
mail-open-address = Or open this address:

## Invite
mail-invite-subject = You are invited to { $app }
mail-invite-intro = You have been invited to { $app }. To accept, choose a password on the page below, or enter this invite code where { $app } asks for it:
mail-invite-button = Accept the invite
mail-invite-lasts = The invite lasts { $lasts }.
mail-org-invite-subject = You are invited to join { $org } on { $app }
mail-org-invite-intro = You have been invited to join the organization { $org } on { $app }. Sign in to { $app } with this email address, then accept on the page below, or enter this code where { $app } asks for it:
mail-org-invite-button = Join { $org }

## Email verification
mail-verify-subject = Confirm your email for { $app }
mail-verify-intro = Confirm that this address is yours to use it with { $app }.
mail-verify-button = Confirm my email

## Password reset
mail-reset-subject = Reset your { $app } password
mail-reset-intro = Someone asked to reset the password of your { $app } account. Choose a new one here:
mail-reset-button = Choose a new password

## Password changed
mail-changed-subject = Your { $app } password was changed
mail-changed-intro = The password of your { $app } account was just changed, and every device signed in to it was signed out.

## Contacts changed
mail-contact-subject = Your { $app } account's contact details changed

## One-time code
mail-otp-subject = { $code } is your { $app } code
mail-otp-intro = Your { $app } sign-in code:
mail-otp-lasts = It lasts { $lasts } and works once. Never share it with anyone.
sms-otp = { $code } is your { $app } code. It expires in { $lasts }. Do not share it.

## Magic link
mail-magic-subject = Sign in to { $app }
mail-magic-intro = Follow this link to sign in to { $app }:
mail-magic-button = Sign in

## Contact notices
notice-contact-added = { $contact } was added to your account.
notice-contact-removed = { $contact } was removed from your account.
notice-primary-changed = Your primary email changed from { $old } to { $new }.

## Let in from a waitlist
mail-waitlist-subject = You're in: { $feature } on { $app }
mail-waitlist-intro = Good news: you were on the waitlist for { $feature }, and { $app } has now let you in. It is ready for you the next time you sign in.

## Member invite (an account invited to help manage an app)
mail-member-invite-subject = You are invited to help manage { $app }
mail-member-invite-intro = You have been invited to help manage { $app } on Rampart, with the role { $role }.
mail-member-invite-button = Accept the invite
mail-member-invite-account = Accepting needs a Rampart account with this email address: sign in, or create one with this address on the page the link opens.
mail-webhook-disabled-subject = A webhook of { $app } was disabled
mail-webhook-disabled-intro = Every delivery to the webhook endpoint { $url } of { $app } has failed for a day, so Rampart disabled it. Events are no longer sent to it.
mail-webhook-disabled-button = Open the app's webhooks
mail-webhook-disabled-after = Fix the receiver, then enable the endpoint again in the console; failed deliveries can be sent again from its delivery log.
