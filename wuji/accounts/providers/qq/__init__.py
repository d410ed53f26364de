"""QQ Connect (QQ 互联) sign-in as an allauth OAuth 2.0 provider; allauth ships WeChat and GitHub, not QQ."""
