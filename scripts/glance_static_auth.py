"""Static-token identity filter for a test Glance (sharecheck reference).

Stands in for keystonemiddleware's ``auth_token`` filter in Glance's paste
pipeline, in front of Glance's ``context`` middleware.  It maps a fixed set of
``X-Auth-Token`` values to the identity headers keystonemiddleware would set
(X-Identity-Status: Confirmed, X-Project-Id, X-User-Id, X-Roles, ...).

Like Glance's stock ``[filter:authtoken]`` (``delay_auth_decision = true``),
a missing, empty or unknown token does not answer here: the request goes on
with ``X-Identity-Status: Invalid`` and Glance's context middleware raises the
401 (its body follows Accept: webob's JSON ``{"message","code","title"}``,
HTML or plain text).  On the way back every 401 gets
``WWW-Authenticate: Keystone uri="..."`` exactly as keystonemiddleware adds it.
With ``delay_auth_decision = false`` in the paste section this filter answers
the 401 itself (same body rules, via webob).

Identity headers sent by the client are always stripped first, as
keystonemiddleware does, so they cannot be spoofed.

With ``keystone_url`` set (a Keystone v3 root such as sharecheck's mock at
``http://127.0.0.1:9292/v3``), a token that is not static is validated
there with ``GET /auth/tokens`` (``X-Subject-Token``, the admin's static
token as ``X-Auth-Token``), as keystonemiddleware validates tokens; its
answer gives the project, user and roles.  Answers are not cached.

Paste section::

    [filter:statictoken]
    paste.filter_factory = glance_static_auth:filter_factory
    www_authenticate_uri = http://127.0.0.1/identity
    delay_auth_decision = true
"""

import json
import urllib.error
import urllib.request

import webob
import webob.dec
import webob.exc

# token -> (project id, user id, roles)
TOKENS = {
    'owner-token': ('proj-owner', 'user-owner', 'member,reader'),
    'member-token': ('proj-member', 'user-member', 'member,reader'),
    'other-member-token': ('proj-other-member', 'user-other-member',
                           'member,reader'),
    'stranger-token': ('proj-stranger', 'user-stranger', 'member,reader'),
    'admin-token': ('proj-admin', 'user-admin', 'admin,member,reader'),
    'reader-token': ('proj-owner', 'user-reader', 'reader'),
}

# Header prefixes/names keystonemiddleware strips from incoming requests.
_AUTH_HEADER_PREFIXES = (
    'X-Identity-Status', 'X-Service-Identity-Status',
    'X-Domain-', 'X-Project-', 'X-User-', 'X-Service-',
    'X-Tenant', 'X-Role', 'X-Roles', 'X-Service-Roles',
    'X-Is-Admin-Project', 'X-System-Scope', 'X-Auth-Project-Id',
    'X-Trust-', 'X-Application-Credential-', 'X-Service-Catalog',
    'X-Identity-', 'X-Tenant-', 'X-Default-',
)


def _strip_auth_headers(req):
    for name in list(req.headers.keys()):
        if name.lower().startswith(tuple(p.lower()
                                         for p in _AUTH_HEADER_PREFIXES)):
            del req.headers[name]


class StaticTokenAuth(object):
    def __init__(self, app, conf):
        self.app = app
        self.www_authenticate_uri = conf.get(
            'www_authenticate_uri', 'http://127.0.0.1/identity')
        self.delay = str(conf.get('delay_auth_decision', 'true')).lower() in (
            '1', 'true', 'yes', 'on')
        self.keystone_url = (conf.get('keystone_url') or '').rstrip('/')

    def _identity(self, token):
        """(project, user, roles) of a token, or None when it is not valid."""
        if token in TOKENS or not token or not self.keystone_url:
            return TOKENS.get(token)
        req = urllib.request.Request(
            self.keystone_url + '/auth/tokens',
            headers={'X-Auth-Token': 'admin-token', 'X-Subject-Token': token,
                     'Accept': 'application/json'})
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                body = json.load(resp)['token']
        except (urllib.error.URLError, ValueError, KeyError):
            return None
        roles = ','.join(r['name'] for r in body.get('roles', []))
        return (body['project']['id'], body['user']['id'], roles)

    @property
    def _www_authenticate(self):
        return 'Keystone uri="%s"' % self.www_authenticate_uri

    @webob.dec.wsgify
    def __call__(self, req):
        _strip_auth_headers(req)
        token = (req.headers.get('X-Auth-Token') or '').strip()
        identity = self._identity(token)
        if identity is None:
            if not self.delay:
                resp = webob.exc.HTTPUnauthorized()
                resp.headers['WWW-Authenticate'] = self._www_authenticate
                return resp
            req.headers['X-Identity-Status'] = 'Invalid'
        else:
            project, user, roles = identity
            req.headers.update({
                'X-Identity-Status': 'Confirmed',
                'X-Project-Id': project,
                'X-Project-Name': project,
                'X-Project-Domain-Id': 'default',
                'X-Project-Domain-Name': 'Default',
                'X-User-Id': user,
                'X-User-Name': user,
                'X-User-Domain-Id': 'default',
                'X-User-Domain-Name': 'Default',
                'X-Roles': roles,
                'X-Is-Admin-Project': 'True',
            })
        resp = req.get_response(self.app)
        if resp.status_int == 401:
            resp.headers['WWW-Authenticate'] = self._www_authenticate
        return resp


def filter_factory(global_conf, **local_conf):
    conf = dict(global_conf)
    conf.update(local_conf)

    def _filter(app):
        return StaticTokenAuth(app, conf)
    return _filter
