# Les e-mails et SMS de Rampart, en français. Un message s'écrit `clé = texte` ;
# `{ $nom }` est rempli par Rampart. Gardez les mêmes clés que dans le fichier anglais.

## Durées (« Le lien est valable 3 jours »)
duration-minutes = { $n ->
    [one] { $n } minute
   *[other] { $n } minutes
}
duration-hours = { $n ->
    [one] { $n } heure
   *[other] { $n } heures
}
duration-days = { $n ->
    [one] { $n } jour
   *[other] { $n } jours
}

## Tous les messages
mail-greeting = Bonjour,
mail-greeting-name = Bonjour { $name },
mail-ignore = Si vous n'êtes pas à l'origine de cette demande, vous pouvez ignorer ce message.
mail-not-you = Si ce n'était pas vous, réinitialisez votre mot de passe sans attendre et prévenez le support de l'application.
mail-link-lasts = Le lien est valable { $lasts } et ne sert qu'une fois.
mail-open-address = Ou ouvrez cette adresse :

## Invitation
mail-invite-subject = Vous êtes invité·e à rejoindre { $app }
mail-invite-intro = Vous êtes invité·e à rejoindre { $app }. Pour accepter, choisissez un mot de passe sur la page ci-dessous, ou saisissez ce code d'invitation là où { $app } le demande :
mail-invite-button = Accepter l'invitation
mail-invite-lasts = L'invitation est valable { $lasts }.
mail-org-invite-subject = Vous êtes invité·e à rejoindre { $org } sur { $app }
mail-org-invite-intro = Vous êtes invité·e à rejoindre l'organisation { $org } sur { $app }. Connectez-vous à { $app } avec cette adresse, puis acceptez sur la page ci-dessous, ou saisissez ce code là où { $app } le demande :
mail-org-invite-button = Rejoindre { $org }

## Vérification de l'adresse
mail-verify-subject = Confirmez votre adresse e-mail pour { $app }
mail-verify-intro = Confirmez que cette adresse est bien la vôtre pour l'utiliser avec { $app }.
mail-verify-button = Confirmer mon adresse

## Réinitialisation du mot de passe
mail-reset-subject = Réinitialisez votre mot de passe { $app }
mail-reset-intro = Quelqu'un a demandé à réinitialiser le mot de passe de votre compte { $app }. Choisissez-en un nouveau ici :
mail-reset-button = Choisir un nouveau mot de passe

## Mot de passe modifié
mail-changed-subject = Votre mot de passe { $app } a été modifié
mail-changed-intro = Le mot de passe de votre compte { $app } vient d'être modifié, et tous les appareils connectés à ce compte ont été déconnectés.

## Coordonnées modifiées
mail-contact-subject = Les coordonnées de votre compte { $app } ont changé

## Code à usage unique
mail-otp-subject = { $code } est votre code { $app }
mail-otp-intro = Votre code de connexion { $app } :
mail-otp-lasts = Il est valable { $lasts } et ne sert qu'une fois. Ne le communiquez à personne.
sms-otp = { $code } est votre code { $app }. Il expire dans { $lasts }. Ne le communiquez pas.

## Lien de connexion
mail-magic-subject = Connexion à { $app }
mail-magic-intro = Suivez ce lien pour vous connecter à { $app } :
mail-magic-button = Me connecter

## Avis sur les coordonnées
notice-contact-added = { $contact } a été ajouté à votre compte.
notice-contact-removed = { $contact } a été retiré de votre compte.
notice-primary-changed = Votre adresse e-mail principale est passée de { $old } à { $new }.

## Sortie de liste d'attente
mail-waitlist-subject = C'est à vous : { $feature } sur { $app }
mail-waitlist-intro = Bonne nouvelle : vous étiez sur la liste d'attente de { $feature }, et { $app } vous y donne maintenant accès. Tout est prêt pour votre prochaine connexion.

## Invitation à gérer une app (un compte invité comme membre)
mail-member-invite-subject = Vous êtes invité·e à gérer { $app }
mail-member-invite-intro = Vous avez été invité·e à gérer { $app } sur Rampart, avec le rôle { $role }.
mail-member-invite-button = Accepter l'invitation
mail-member-invite-account = Pour accepter, il faut un compte Rampart avec cette adresse email : connectez-vous, ou créez-en un avec cette adresse sur la page que le lien ouvre.
mail-webhook-disabled-subject = Un webhook de { $app } a été désactivé
mail-webhook-disabled-intro = Toutes les livraisons vers le webhook { $url } de { $app } échouent depuis un jour : Rampart l'a désactivé. Les événements ne lui sont plus envoyés.
mail-webhook-disabled-button = Ouvrir les webhooks de l'app
mail-webhook-disabled-after = Réparez le récepteur, puis réactivez le webhook dans la console ; les livraisons échouées peuvent être renvoyées depuis son journal.
