"""QQ Connect's documented OAuth 2.0 endpoints: authorize, token (fmt=json), `me` for the openid, user info."""

from allauth.socialaccount.adapter import get_adapter
from allauth.socialaccount.providers.oauth2.views import OAuth2Adapter, OAuth2CallbackView, OAuth2LoginView

GRAPH = "https://graph.qq.com"


class QQOAuth2Adapter(OAuth2Adapter):
    provider_id = "qq"
    authorize_url = f"{GRAPH}/oauth2.0/authorize"
    access_token_url = f"{GRAPH}/oauth2.0/token"
    access_token_method = "GET"
    openid_url = f"{GRAPH}/oauth2.0/me"
    profile_url = f"{GRAPH}/user/get_user_info"

    def complete_login(self, request, app, token, **kwargs):
        with get_adapter().get_requests_session() as session:
            me = session.get(self.openid_url, params={"access_token": token.token, "fmt": "json"})
            me.raise_for_status()
            openid = me.json()["openid"]
            info = session.get(self.profile_url, params={"access_token": token.token, "openid": openid,
                                                         "oauth_consumer_key": app.client_id})
            info.raise_for_status()
            extra_data = {**info.json(), "openid": openid}
        return self.get_provider().sociallogin_from_response(request, extra_data)


oauth2_login = OAuth2LoginView.adapter_view(QQOAuth2Adapter)
oauth2_callback = OAuth2CallbackView.adapter_view(QQOAuth2Adapter)
