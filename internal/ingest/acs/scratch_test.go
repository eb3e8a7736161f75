package acs

import (
	"fmt"
	"os"
	"testing"
)

func TestScratch(t *testing.T) {
	rd := func(f string) string { b, _ := os.ReadFile("testdata/published/" + f + ".txt"); return string(b) }
	for _, o := range repairPublished(rd("CallClientOperations/createview")) {
		fmt.Println(o)
	}
	for _, o := range repairPublished(rd("CallSurvey/audio")) {
		fmt.Println(o)
	}
	for _, o := range repairPublished(rd("CallRecordingSummary/one-call-many-recordings")) {
		fmt.Println(o)
	}
	for _, o := range repairPublished(rd("CallSummaryUpdates/p2p-shared-envelope"), rd("CallSummaryUpdates/p2p-operation-category"), rd("CallSummaryUpdates/p2p-voip-user-1")) {
		fmt.Println(o)
		it := mustItem(t, o)
		r, err := Normalize(it)
		fmt.Printf("%+v %v\n%+v\n", r, err, *r.Participant)
	}
	for _, o := range repairPublished(rd("CallClientOperations/createview")) {
		it := mustItem(t, o)
		r, err := Normalize(it)
		fmt.Printf("%+v %v\n%+v\n", r, err, *r.Operation)
	}
}
