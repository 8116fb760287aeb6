"""The dashboard's languages: English (the message ids themselves) and French.

Templates and views mark every string with ``_("…")`` (``%(name)s`` placeholders), the form
Babel's extractor reads, so the catalogue can move to ``.po`` files with Flask-Babel without
touching a template. Until then the French catalogue is :data:`FRENCH`, here, in one place.

The language is ``?lang=`` (remembered in a cookie), else the cookie, else the browser's
``Accept-Language``.
"""

from __future__ import annotations

from collections.abc import Mapping

from flask import g, request

LANGUAGES = ("en", "fr")
LANG_COOKIE = "bb_lang"

FRENCH: dict[str, str] = {
    # layout
    "Dashboard": "Tableau de bord",
    "Products": "Produits",
    "Orders": "Commandes",
    "Analytics": "Statistiques",
    "Developers": "Développeurs",
    "Sign out": "Se déconnecter",
    "Main navigation": "Navigation principale",
    "Skip to content": "Aller au contenu",
    "Signed in as %(email)s": "Connecté en tant que %(email)s",
    # sign-in and sign-up
    "Sign in": "Se connecter",
    "Sign in to your shop": "Connectez-vous à votre boutique",
    "Email": "E-mail",
    "Password": "Mot de passe",
    "The email or password is not right.": "L'e-mail ou le mot de passe est incorrect.",
    "No account yet?": "Pas encore de compte ?",
    "Create one": "Créez-en un",
    "Create your shop": "Créez votre boutique",
    "Shop name": "Nom de la boutique",
    "Create account": "Créer le compte",
    "Already have an account?": "Vous avez déjà un compte ?",
    "At least %(n)s characters.": "Au moins %(n)s caractères.",
    "Enter an email address such as you@example.com.": "Saisissez une adresse e-mail comme vous@exemple.fr.",
    "The password must have at least %(n)s characters.": "Le mot de passe doit comporter au moins %(n)s caractères.",
    "The password must have at most %(n)s characters.": "Le mot de passe doit comporter au plus %(n)s caractères.",
    "Enter the shop's name (1 to 200 characters).": "Saisissez le nom de la boutique (1 à 200 caractères).",
    "An account with this email already exists.": "Un compte existe déjà avec cet e-mail.",
    "You are signed out.": "Vous êtes déconnecté.",
    "Your session has ended; sign in again.": "Votre session a pris fin ; reconnectez-vous.",
    "Please fix the fields marked below.": "Corrigez les champs signalés ci-dessous.",
    # products
    "New product": "Nouveau produit",
    "Name": "Nom",
    "Description": "Description",
    "Price": "Prix",
    "Currency": "Devise",
    "Stock": "Stock",
    "Image": "Image",
    "Status": "Statut",
    "Sales": "Ventes",
    "Active": "Actif",
    "Inactive": "Inactif",
    "Sold out": "Épuisé",
    "Unlimited": "Illimité",
    "No products yet.": "Aucun produit pour l'instant.",
    "Create your first product, then paste its button or link into a post.": "Créez votre premier produit, puis collez son bouton ou son lien dans une publication.",
    "Save": "Enregistrer",
    "Save product": "Enregistrer le produit",
    "Cancel": "Annuler",
    "Edit": "Modifier",
    "Edit product": "Modifier le produit",
    "Deactivate": "Désactiver",
    "Activate": "Activer",
    "Delete": "Supprimer",
    "Delete this product?": "Supprimer ce produit ?",
    "Delete product": "Supprimer le produit",
    "Deleting removes the product from your catalogue; its orders stay, and every link to it "
    "stops selling.": "La suppression retire le produit de votre catalogue ; ses commandes "
    "restent, et tous ses liens cessent de vendre.",
    "Empty means unlimited.": "Vide : illimité.",
    "For example 12.50": "Par exemple 12,50",
    "JPEG, PNG or WebP, up to %(size)s.": "JPEG, PNG ou WebP, jusqu'à %(size)s.",
    "Current image": "Image actuelle",
    "Keep the current image, or choose a new one.": "Gardez l'image actuelle ou choisissez-en une autre.",
    "Enter a name (1 to 200 characters).": "Saisissez un nom (1 à 200 caractères).",
    "The description is too long (at most 5000 characters).": "La description est trop longue (5000 caractères au plus).",
    "Enter a price such as 12.50.": "Saisissez un prix comme 12,50.",
    "Enter a price above zero, at most %(max)s.": "Saisissez un prix supérieur à zéro, au plus %(max)s.",
    "Choose a currency.": "Choisissez une devise.",
    "Enter a whole number of units, or leave it empty for unlimited.": "Saisissez un nombre entier d'unités, ou laissez vide pour illimité.",
    "Changing the price or currency withdraws every link and button already posted for this "
    "product: they stop selling at the old price. You will get new ones to post.": "Changer le prix ou la devise retire tous les liens et boutons déjà publiés pour ce "
    "produit : ils cessent de vendre à l'ancien prix. Vous en recevrez de nouveaux à publier.",
    "Yes, change the price": "Oui, changer le prix",
    "Change the price?": "Changer le prix ?",
    "Product saved.": "Produit enregistré.",
    "Product created.": "Produit créé.",
    "Product deleted.": "Produit supprimé.",
    "Product deactivated: its links stop selling until you activate it again.": "Produit désactivé : ses liens ne vendent plus jusqu'à sa réactivation.",
    "Product activated.": "Produit activé.",
    "The price changed: links posted before no longer sell. Post the new ones below.": "Le prix a changé : les liens publiés avant ne vendent plus. Publiez les nouveaux ci-dessous.",
    # product page
    "Sell it": "Vendez-le",
    "Snippet for a web page": "Extrait pour une page web",
    "Share link (for social posts)": "Lien de partage (pour les réseaux sociaux)",
    "Buy link": "Lien d'achat",
    "QR code": "Code QR",
    "Copy": "Copier",
    "Copied": "Copié",
    "Download SVG": "Télécharger en SVG",
    "Download PNG": "Télécharger en PNG",
    "This product is inactive: activate it to get links that sell.": "Ce produit est inactif : activez-le pour obtenir des liens qui vendent.",
    "Links for posts": "Liens pour vos publications",
    "New link for a post": "Nouveau lien pour une publication",
    "Campaign tag": "Étiquette de campagne",
    "Up to 64 characters, for example spring-post. It is shown on the orders it brings.": (
        "Jusqu'à 64 caractères, par exemple post-printemps. Elle figure sur les commandes "
        "qu'il apporte."
    ),
    "Expires": "Expire",
    "Optional: the link stops selling at this date and time (UTC).": "Facultatif : le lien cesse de vendre à cette date et heure (UTC).",
    "Link created.": "Lien créé.",
    "Link revoked: it no longer sells.": "Lien révoqué : il ne vend plus.",
    "Revoke": "Révoquer",
    "Revoked": "Révoqué",
    "Expired": "Expiré",
    "Withdrawn (price changed)": "Retiré (prix modifié)",
    "Live": "Actif",
    "Tag": "Étiquette",
    "Created": "Créé",
    "Impressions": "Affichages",
    "Clicks": "Clics",
    "Paid": "Payées",
    "Link": "Lien",
    "None": "Aucune",
    "Never": "Jamais",
    "No links issued yet.": "Aucun lien créé pour l'instant.",
    "Enter a date and time in the future, within five years.": "Saisissez une date et une heure futures, dans les cinq ans.",
    "Use at most 64 printable characters.": "Utilisez au plus 64 caractères imprimables.",
    "Numbers are counted per campaign tag.": "Les chiffres sont comptés par étiquette de campagne.",
    "The image is too large: at most %(size)s.": "L'image est trop lourde : %(size)s au plus.",
    "The image is too large: at most %(size)s. Go back and choose a smaller one.": "L'image est trop lourde : %(size)s au plus. Revenez en arrière et choisissez-en une plus légère.",
    "The image must be a JPEG, PNG or WebP file.": "L'image doit être un fichier JPEG, PNG ou WebP.",
    "The image has too many pixels; use a smaller one.": "L'image a trop de pixels ; utilisez-en une plus petite.",
    "This file is not an image that can be read.": "Ce fichier n'est pas une image lisible.",
    "Back to products": "Retour aux produits",
    "Actions": "Actions",
    # developers
    "API keys": "Clés d'API",
    "API key": "Clé d'API",
    "Signing secret": "Secret de signature",
    "Revoke this key? Requests that use it will be refused.": "Révoquer cette clé ? Les requêtes qui l'utilisent seront refusées.",
    "Delete this endpoint? It gets no more events.": "Supprimer ce point de terminaison ? Il ne recevra plus d'événements.",
    "none checked: all events": "aucun coché : tous les événements",
    "Key": "Clé",
    "Create API key": "Créer une clé d'API",
    "Your new API key. Copy it now: it is shown only once.": "Votre nouvelle clé d'API. Copiez-la maintenant : elle ne sera plus affichée.",
    "API key revoked: requests with it are refused from now on.": "Clé d'API révoquée : les requêtes qui l'utilisent sont désormais refusées.",
    "Webhook endpoints": "Points de terminaison webhook",
    "URL": "URL",
    "Events": "Événements",
    "All events": "Tous les événements",
    "Add endpoint": "Ajouter le point de terminaison",
    "Signing secret of the new endpoint. Copy it now: it is shown only once.": "Secret de signature du nouveau point de terminaison. Copiez-le maintenant : il ne sera plus affiché.",
    "Endpoint deleted.": "Point de terminaison supprimé.",
    "Recent deliveries": "Livraisons récentes",
    "Event": "Événement",
    "Attempts": "Tentatives",
    "Last answer": "Dernière réponse",
    "Resend": "Renvoyer",
    "Delivery queued again.": "Livraison remise en file d'attente.",
    "No deliveries yet.": "Aucune livraison pour l'instant.",
    "No API keys.": "Aucune clé d'API.",
    "No webhook endpoints.": "Aucun point de terminaison webhook.",
    "Enter the https URL that receives the events.": "Saisissez l'URL https qui reçoit les événements.",
    "pending": "en attente",
    "succeeded": "réussie",
    "failed": "échouée",
    "canceled": "annulée",
    "API reference": "Référence de l'API",
    "Use the API from your own code: send a key as Authorization: Bearer bb_sk_….": "Utilisez l'API depuis votre code : envoyez une clé dans Authorization: Bearer bb_sk_….",
}

CATALOGUES: dict[str, dict[str, str]] = {"en": {}, "fr": FRENCH}


def add_translations(lang: str, messages: Mapping[str, str]) -> None:
    """Add a page module's own translations (its module calls this once, at import), so each
    part of the dashboard keeps its strings beside its views."""
    CATALOGUES[lang].update(messages)


def dashboard_language() -> str:
    """The language of this request's dashboard page (``en`` or ``fr``)."""
    cached = g.get("dashboard_lang")
    if cached is None:
        asked = request.args.get("lang") or request.cookies.get(LANG_COOKIE)
        if asked not in LANGUAGES:
            asked = request.accept_languages.best_match(LANGUAGES, default="en")
        cached = g.dashboard_lang = asked
    return cached


def gettext(message: str, **values: object) -> str:
    """``message`` in the request's language, its ``%(name)s`` placeholders filled."""
    text = CATALOGUES[dashboard_language()].get(message, message)
    if not values:
        return text
    # A plain str: Jinja escapes it (and the values in it) when it is output.
    return text % values
