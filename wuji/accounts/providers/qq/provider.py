from allauth.socialaccount.providers.base import ProviderAccount
from allauth.socialaccount.providers.oauth2.provider import OAuth2Provider

from .views import QQOAuth2Adapter


class QQAccount(ProviderAccount):
    def get_avatar_url(self):
        return self.account.extra_data.get("figureurl_qq_2") or self.account.extra_data.get("figureurl_qq_1")

    def to_str(self):
        return self.account.extra_data.get("nickname") or super().to_str()


class QQProvider(OAuth2Provider):
    id = "qq"
    name = "QQ"
    account_class = QQAccount
    oauth2_adapter_class = QQOAuth2Adapter

    def extract_uid(self, data):
        return str(data["openid"])

    def get_default_scope(self):
        return ["get_user_info"]

    def extract_common_fields(self, data):
        return {"username": data.get("nickname"), "name": data.get("nickname")}


provider_classes = [QQProvider]
