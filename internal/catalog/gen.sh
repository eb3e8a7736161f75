#!/bin/sh
# gen.sh regenerates codes.tsv and ufd.tsv from the reference tables.
#
# Usage: sh gen.sh REFERENCE_DIR
#
# REFERENCE_DIR holds error-codes.tsv and ufd.tsv. Only factual columns are
# kept; the explanation columns (meaning, advice, when_raised, ...) are left
# out on purpose, because any explanation shown to users is written by us.
#
#   codes.tsv: code, subcode, result_category, source, ungraceful
#              (from error-codes.tsv columns 1, 2, 3, 6, 7)
#   ufd.tsv:   name, platform, kind, subkind, value_type, values, group
#              (from ufd.tsv columns 1, 2, 3, 4, 6, 7, 11)
set -eu
ref=${1:?usage: sh gen.sh REFERENCE_DIR}
here=$(dirname "$0")

awk -F'\t' 'BEGIN { OFS = "\t" }
NR == 1 { print "code", "subcode", "result_category", "source", "ungraceful"; next }
{ print $1, $2, $3, $6, $7 }' "$ref/error-codes.tsv" >"$here/codes.tsv.tmp"
mv "$here/codes.tsv.tmp" "$here/codes.tsv"

awk -F'\t' 'BEGIN { OFS = "\t" }
NR == 1 { print "name", "platform", "kind", "subkind", "value_type", "values", "group"; next }
{ print $1, $2, $3, $4, $6, $7, $11 }' "$ref/ufd.tsv" >"$here/ufd.tsv.tmp"
mv "$here/ufd.tsv.tmp" "$here/ufd.tsv"
