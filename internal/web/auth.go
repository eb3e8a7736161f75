package web

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"net/http"
	"strings"
)

// SessionCookie is the name of the cookie a signed-in browser keeps.
const SessionCookie = "calldiag_session"

// SessionValue is the session cookie's value for a token: an HMAC of a
// fixed label under the token, so the cookie proves the token was typed
// without containing it, and changing the token signs every browser out.
func SessionValue(token string) string {
	m := hmac.New(sha256.New, []byte(token))
	m.Write([]byte("calldiag browser session v1"))
	return hex.EncodeToString(m.Sum(nil))
}

// ValidSession reports whether r carries the session cookie of token.
func ValidSession(r *http.Request, token string) bool {
	c, err := r.Cookie(SessionCookie)
	return err == nil && subtle.ConstantTimeCompare([]byte(c.Value), []byte(SessionValue(token))) == 1
}

// authorized reports whether r may see the pages: always when no token is
// set, else with the session cookie.
func (h *Handler) authorized(r *http.Request) bool {
	return h.cfg.Token == "" || ValidSession(r, h.cfg.Token)
}

// crossOrigin guards the state-changing forms: a POST another site's page
// makes the browser send is refused (the browser says where it came from
// in Sec-Fetch-Site or Origin), and the session cookie is SameSite=Strict.
var crossOrigin = http.NewCrossOriginProtection()

type loginPage struct {
	Layout
	Next  string
	Error string
}

func (h *Handler) loginForm(w http.ResponseWriter, r *http.Request) (string, any, error) {
	if h.cfg.Token == "" {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return "", nil, nil
	}
	return "login", loginPage{Layout: h.layout(r, "Sign in"), Next: safeNext(r.URL.Query().Get("next"))}, nil
}

func (h *Handler) login(w http.ResponseWriter, r *http.Request) (string, any, error) {
	if err := crossOrigin.Check(r); err != nil {
		return "", nil, &HTTPError{Status: http.StatusForbidden, Message: "This form was sent from another site and is refused.", Err: err}
	}
	if h.cfg.Token == "" {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return "", nil, nil
	}
	next := safeNext(r.PostFormValue("next"))
	got := strings.TrimSpace(r.PostFormValue("token"))
	if subtle.ConstantTimeCompare([]byte(got), []byte(h.cfg.Token)) != 1 {
		w.Header().Set("Cache-Control", "no-store")
		page := loginPage{Layout: h.layout(r, "Sign in"), Next: next, Error: "That token is not the one this server was started with."}
		return "login", page, &HTTPError{Status: http.StatusUnauthorized, Message: page.Error}
	}
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: SessionValue(h.cfg.Token), Path: "/",
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil, MaxAge: 30 * 24 * 3600})
	http.Redirect(w, r, next, http.StatusSeeOther)
	return "", nil, nil
}

func (h *Handler) logout(w http.ResponseWriter, r *http.Request) (string, any, error) {
	if err := crossOrigin.Check(r); err != nil {
		return "", nil, &HTTPError{Status: http.StatusForbidden, Message: "This form was sent from another site and is refused.", Err: err}
	}
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", HttpOnly: true,
		SameSite: http.SameSiteStrictMode, MaxAge: -1})
	http.Redirect(w, r, "/login", http.StatusSeeOther)
	return "", nil, nil
}

// safeNext keeps a post-login redirect on this site.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		return "/"
	}
	return next
}
