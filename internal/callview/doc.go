// Package callview builds the views of calls that the JSON API, the web UI
// and the CLI all show, so that the three agree: a call's overview with the
// outcome of detection filled in, its issues view, and the search and
// timeline filters parsed from named parameters (query parameters or CLI
// flags, with the same names).
//
// It reads the store through the narrow interface pipeline declares and
// must not import api, web, server or cli.
package callview
