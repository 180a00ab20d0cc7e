"""Single sign-on with OpenID Connect: the provider's people sign in here, their groups give their roles."""
