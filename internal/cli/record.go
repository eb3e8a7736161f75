package cli

import (
	"bytes"
	"strings"

	"github.com/spf13/cobra"
)

func (a *app) recordCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "record [flags] RECORD_ID",
		Short: "Print a stored record exactly as it arrived",
		Args:  exactArgs(1, "one RECORD_ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			st, err := a.openStore(cmd.Context())
			if err != nil {
				return err
			}
			defer st.Close()
			rec, err := st.Record(cmd.Context(), strings.TrimSpace(args[0]))
			if err != nil {
				return notFoundError(err, "record", args[0])
			}
			raw := rec.Raw
			if !bytes.HasSuffix(raw, []byte("\n")) {
				raw = append(raw, '\n')
			}
			_, err = a.io.Stdout.Write(raw)
			return err
		},
	}
}
