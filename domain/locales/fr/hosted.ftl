# Les pages hébergées de Rampart, en français. Un message s'écrit `clé = texte` ;
# `{ $nom }` est rempli par la page. Gardez les mêmes clés que dans le fichier anglais.

## Autour de chaque page
page-title = { $page } · { $app }
need-help = Besoin d'aide ?
switch-language = Read in English
not-found-title = Page introuvable
not-found-body = Cette application n'existe pas.
back-to-signin = Retour à la connexion
form-errors = Merci de corriger ce qui suit

## Champs
field-email = Adresse e-mail
field-identifier = Adresse e-mail ou nom d'utilisateur
field-password = Mot de passe
field-new-password = Nouveau mot de passe
field-confirm-password = Confirmez le mot de passe
field-current-password = Mot de passe actuel
field-name = Nom (facultatif)
field-username = Nom d'utilisateur (facultatif)
field-display-name = Nom affiché
field-destination = Adresse e-mail ou numéro de téléphone
field-destination-hint = Un numéro au format international, comme +33612345678.
field-code = Code
field-contact-kind = Type
field-contact-value = Adresse e-mail ou numéro de téléphone
contact-kind-email = E-mail
contact-kind-phone = Téléphone

## Les règles de mot de passe de l'application
rules-title = Votre mot de passe doit contenir
rule-min-length = au moins { $count } caractères
rule-uppercase = une lettre majuscule
rule-number = un chiffre
rule-symbol = un symbole

## Vérifications dans la page (avec JavaScript) et réponses du serveur
invalid-required = Remplissez ce champ.
invalid-email = Saisissez une adresse e-mail comme nom@exemple.fr.
invalid-mismatch = Les deux mots de passe ne sont pas identiques.
invalid-rules = Le mot de passe ne respecte pas toutes les règles ci-dessus.
error-title = Quelque chose ne va pas
error-csrf = Ce formulaire a expiré. Réessayez.
error-invalid-credentials = L'adresse e-mail, le nom d'utilisateur ou le mot de passe est incorrect.
error-current-password = Votre mot de passe actuel est incorrect.
error-invalid-email = Saisissez une adresse e-mail valide.
error-invalid-phone = Saisissez un numéro au format international, comme +33612345678.
error-user-exists = Un compte existe déjà avec ce nom d'utilisateur ou cette adresse e-mail.
error-signup-disabled = Les inscriptions sont fermées pour cette application.
error-signin-disabled = La connexion est désactivée pour cette application.
error-rate-limited = Trop de tentatives. Patientez un peu, puis réessayez.
error-invalid-otp = Ce code est incorrect ou a expiré. Réessayez, ou demandez-en un nouveau.
error-forbidden = Ceci n'est pas disponible pour cette application.
error-unavailable = Nous sommes très sollicités. Réessayez dans un instant.
error-invalid-request = Un élément du formulaire est incorrect. Vérifiez-le et réessayez.
error-conflict = Cette action n'est pas possible pour le moment.
error-internal = Une erreur est survenue de notre côté. Réessayez plus tard.
error-redirect = La page de retour n'est pas autorisée par cette application.
error-weak-password = Le mot de passe ne respecte pas les règles.
error-weak-password-rule = Le mot de passe doit contenir { $rule }.
error-display-name = Saisissez un nom de 100 caractères au plus.
error-username = Un nom d'utilisateur compte 3 à 32 lettres, chiffres, points, tirets ou soulignés.
error-primary-contact = Choisissez une autre adresse principale avant de retirer celle-ci.
error-last-email = Votre dernière adresse e-mail vérifiée ne peut pas être retirée.

## Connexion
signin-title = Connexion
signin-intro = Connectez-vous à { $app }.
signin-submit = Se connecter
signin-forgot = Mot de passe oublié ?
signin-no-account = Pas encore de compte ?
signin-signup-link = Créez-en un
signin-other-ways = Autres moyens de connexion
signin-magic-link = Recevoir un lien de connexion par e-mail
signin-otp = Se connecter avec un code à usage unique

## Inscription
signup-title = Créez votre compte
signup-intro = Créez votre compte { $app }.
signup-submit = Créer mon compte
signup-have-account = Vous avez déjà un compte ?
signup-signin-link = Connectez-vous

## Mot de passe oublié
forgot-title = Mot de passe oublié ?
forgot-intro = Nous vous enverrons par e-mail un lien pour en choisir un nouveau.
forgot-submit = M'envoyer un lien
forgot-sent-title = Consultez vos e-mails
forgot-sent = Si cette adresse correspond à un compte, un lien pour choisir un nouveau mot de passe vous a été envoyé.

## Liens de connexion
magic-title = Se connecter avec un lien
magic-intro = Nous vous enverrons par e-mail un lien qui vous connecte une seule fois.
magic-submit = M'envoyer un lien
magic-sent-title = Consultez vos e-mails
magic-sent = Si cette adresse correspond à un compte, un lien de connexion vous a été envoyé.
token-title = Connexion
token-intro = Continuez pour vous connecter à { $app }.
token-submit = Se connecter
token-done-title = Vous êtes connecté
token-done = Revenez à l'application pour continuer.

## Codes à usage unique
otp-title = Se connecter avec un code
otp-intro = Nous enverrons un code à six chiffres à votre adresse e-mail ou à votre téléphone.
otp-send = M'envoyer un code
otp-code-title = Saisissez votre code
otp-code-intro = Si cette adresse ou ce numéro correspond à un compte, ou si l'application vous permet d'en créer un, un code à six chiffres vous a été envoyé.
otp-verify = Se connecter
otp-resend = Recevoir un nouveau code

## Liens reçus par e-mail
verify-title = Confirmez votre adresse e-mail
verify-intro = Confirmez que cette adresse est la vôtre pour l'utiliser avec { $app }.
verify-submit = Confirmer mon adresse
verify-done-title = Adresse confirmée
verify-done = Vous pouvez maintenant vous connecter avec cette adresse.
reset-title = Choisissez un nouveau mot de passe
reset-submit = Changer mon mot de passe
reset-done-title = Mot de passe changé
reset-done = Connectez-vous avec votre nouveau mot de passe. Tous les appareils connectés ont été déconnectés.
invite-title = Acceptez votre invitation
invite-intro = Vous êtes invité à rejoindre { $app } en tant que { $email }. Choisissez un mot de passe pour terminer.
invite-submit = Accepter l'invitation
invite-dead-title = Cette invitation ne fonctionne plus
invite-dead = Elle a déjà été acceptée, a expiré ou a été révoquée. Demandez-en une nouvelle.
org-invite-title = Rejoindre une organisation
org-invite-intro = Vous êtes invité·e à rejoindre { $org } en tant que { $email }.
org-invite-submit = Rejoindre l'organisation
org-invite-signin = Vous êtes invité·e à rejoindre { $org }. Connectez-vous en tant que { $email } (adresse vérifiée), puis rouvrez le lien du message.
org-invite-done-title = Vous avez rejoint l'organisation
org-invite-done = Vous en êtes membre. Choisissez-la dans l'application pour y agir.
link-dead-title = Ce lien ne fonctionne plus
link-dead = Il a déjà servi, a expiré, ou un lien plus récent l'a remplacé. Demandez-en un nouveau.

## Déconnexion
signed-out-title = Vous êtes déconnecté
signed-out-body = Vous pouvez fermer cette page, ou vous reconnecter.
sign-in-again = Se reconnecter

## Compte
account-title = Votre compte
account-signed-in-as = Connecté en tant que { $name } ({ $username }).
sign-out = Se déconnecter
profile-title = Profil
profile-save = Enregistrer
password-title = Changer de mot de passe
password-note = Vos autres appareils seront déconnectés.
password-submit = Changer mon mot de passe
sessions-title = Où vous êtes connecté
session-device = Appareil
session-ip = Adresse IP
session-last-used = Dernière utilisation
session-current = Cet appareil
session-unknown = Inconnu
session-sign-out = Déconnecter
session-sign-out-label = Déconnecter la session de { $device }
contacts-title = Adresses e-mail et numéros de téléphone
contacts-note = Modifier vos adresses et numéros demande votre mot de passe actuel.
contact-primary = Principale
contact-verified = Vérifié
contact-unverified = Non vérifié
contact-make-primary = Rendre principale
contact-remove = Retirer
contact-send-code = M'envoyer un code
contact-code-submit = Vérifier
contact-add-title = Ajouter une adresse e-mail ou un numéro
contact-add-submit = Ajouter
contact-actions-label = Modifier { $contact }
done-profile = Votre profil a été enregistré.
done-password = Votre mot de passe a été changé, et vos autres sessions ont été déconnectées.
done-session = Cette session a été déconnectée.
done-contact-added = Le contact a été ajouté. Vérifiez-le pour l'utiliser.
done-contact-removed = Le contact a été retiré.
done-primary = Votre adresse principale a été changée.
done-code-sent = Un code vous a été envoyé. Saisissez-le ci-dessous pour vérifier le contact.
done-verified = Le contact est vérifié.
done-signed-up = Bienvenue ! Consultez vos e-mails pour confirmer votre adresse.
done-welcome = Bienvenue !
done-signed-in = Vous êtes connecté.

# L'app comme fournisseur OpenID Connect : demandes refusées, consentement, déconnexion.
oauth-error-title = Cette demande ne peut pas aboutir
oauth-unknown-client = L'application qui vous a envoyé ici n'est pas enregistrée auprès de ce service. Revenez en arrière et réessayez, ou contactez ses développeurs.
oauth-bad-redirect-uri = L'application qui vous a envoyé ici demande à revenir vers une adresse qu'elle n'a pas enregistrée : vous n'y avez donc pas été renvoyé.
oauth-logout-hint = Cette demande de déconnexion ne peut pas être vérifiée : elle ne désigne aucune connexion valide.
consent-title = Autoriser l'accès ?
consent-intro = { $client } souhaite utiliser votre compte { $app }.
consent-scopes = Elle demande à :
consent-scope-openid = Savoir qui vous êtes
consent-scope-profile = Voir votre nom et votre nom d'utilisateur
consent-scope-email = Voir votre adresse e-mail
consent-scope-phone = Voir votre numéro de téléphone
consent-scope-offline_access = Garder l'accès en votre absence
consent-allow = Autoriser
consent-deny = Refuser
## Connexion par des fournisseurs externes
signin-with-provider = Continuer avec { $provider }
signin-providers = Autres façons de se connecter
oauth-failed-title = Connexion non aboutie
oauth-error-state = Cette connexion a expiré ou a déjà été utilisée. Recommencez.
oauth-error-provider = Le fournisseur ne vous a pas connecté.
oauth-error-verification = La réponse du fournisseur n’a pas pu être vérifiée. Réessayez.
oauth-error-unavailable = Le fournisseur est injoignable. Réessayez plus tard.
oauth-error-account-exists = Un compte existe déjà avec cette adresse. Connectez-vous comme d’habitude, puis liez { $provider } depuis la page de votre compte.
oauth-error-identity-taken = Ce compte { $provider } est déjà lié à un autre utilisateur, ou vous en avez déjà lié un.
oauth-back = Retour à la connexion
identities-title = Fournisseurs de connexion
identities-none = Aucun fournisseur n’est lié à votre compte.
identity-provider = Fournisseur
identity-email = Adresse chez lui
identity-unlink = Délier
identity-unlink-label = Délier { $provider }
identity-link = Lier { $provider }
error-last-method = C’est votre seul moyen de connexion : définissez un mot de passe ou liez un autre fournisseur d’abord.
done-linked = Le fournisseur est lié à votre compte.
done-unlinked = Le fournisseur est délié.
