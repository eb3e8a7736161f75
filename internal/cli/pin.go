package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
)

func (a *app) pinCommand() *cobra.Command {
	return a.pinningCommand(true)
}

func (a *app) unpinCommand() *cobra.Command {
	return a.pinningCommand(false)
}

// pinningCommand builds pin (pinned true) or unpin.
func (a *app) pinningCommand(pinned bool) *cobra.Command {
	use, short, done := "pin [flags] CALL_ID", "Keep a call beyond the retention window", "pinned"
	if !pinned {
		use, short, done = "unpin [flags] CALL_ID", "Let retention remove a pinned call again", "unpinned"
	}
	return &cobra.Command{
		Use:   use,
		Short: short,
		Args:  exactArgs(1, "one CALL_ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			id := strings.TrimSpace(args[0])
			st, err := a.openStore(cmd.Context())
			if err != nil {
				return err
			}
			defer st.Close()
			if err := st.SetPinned(cmd.Context(), id, pinned); err != nil {
				return notFoundError(err, "call", id)
			}
			_, err = fmt.Fprintf(a.io.Stdout, "call %s %s\n", id, done)
			return err
		},
	}
}
