// Package archtest holds tests of the code base's shape: the import rules
// between calldiag's packages and the presence of package documentation.
// It has no code of its own and nothing imports it.
package archtest
