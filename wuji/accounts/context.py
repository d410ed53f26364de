"""Template context of the accounts app: the signed-in user's unresolved contact flags (clause 4.5.1), for the
banner every portal page shows. Lazy: queried only when a template shows the banner."""

from django.utils.functional import SimpleLazyObject


def contact_flags(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}

    def load():
        from . import contacts

        return list(contacts.unresolved_flags_of(user))

    return {"contact_flags": SimpleLazyObject(load)}
