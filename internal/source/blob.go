package source

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/service"
)

// The environment variables a Storage account's credentials are read from.
const (
	// EnvConnectionString holds a connection string of the account (as the
	// portal shows it, a SAS one, or Azurite's with its BlobEndpoint).
	EnvConnectionString = "CALLDIAG_STORAGE_CONNECTION_STRING"
	// EnvStorageKey holds an access key of the account.
	EnvStorageKey = "CALLDIAG_STORAGE_KEY"
)

// Blob follows a Storage account where a Diagnostic Setting archives logs:
// one container per category, insights-logs-<category>, holding append
// blobs resourceId=…/y=…/m=…/d=…/h=…/m=00/PT1H.json, one record per line,
// appended to during their hour. Each poll it lists the blobs and reads
// only the new bytes of those that grew, with ranged downloads; the rest
// is as Folder does. A blob's checkpoint is keyed CONTAINER/BLOB, the path
// it would have in a folder holding a copy of the account.
//
// A blob is identified by its creation time, which a blob deleted and
// created again under the same name does not keep. Its ETag is no identity:
// it changes at every append.
type Blob struct {
	// Account is the Storage account followed. With Container set, only
	// that container is, and Prefix narrows it to the blobs whose names
	// start with it; without, every container whose name starts with
	// Prefix is (set it to insights-logs- for the diagnostic logs).
	Account   string
	Container string
	Prefix    string
	// ConnectionString, when set, gives the endpoint and credentials;
	// otherwise AccountKey signs requests to
	// https://ACCOUNT.blob.core.windows.net/.
	ConnectionString string
	AccountKey       string
	// Name names the source in checkpoints, logs and status (its URL).
	Name string
	// Poll is the time between two looks at the blobs that are being
	// appended to (default 1 s). A look between listings asks for the
	// properties of those blobs only, a read that Azure bills at a small
	// share of a listing.
	Poll time.Duration
	// List is the time between two listings of the whole account, which
	// find new blobs (default 30 s). During the first two minutes of each
	// hour, when Azure starts the hour's blobs, the account is listed at
	// every Poll; so it is when more blobs are hot than a look should ask
	// about one by one. A negative List lists at every Poll.
	List time.Duration
	// Settle is how long a blob must stay unchanged before a last line
	// without its newline, or a gzip blob, is read (default 10 s). It is
	// measured on the local clock against the blob's Last-Modified.
	Settle time.Duration
	// Segment caps the bytes read into memory at once (default 8 MiB).
	Segment int64

	Ingest      Ingester
	Checkpoints Checkpoints
	Status      *Status
	Logger      *slog.Logger
	// Now gives the time (default time.Now).
	Now func() time.Time

	client *service.Client
	tail   tail // what has been read, from the first pass on

	// listed is the last listing, kept up to date between listings by the
	// looks at its hot blobs; listedAt is when it was made.
	listed   []stream
	listedAt time.Time
	// listings and looks count the calls made, for the tests.
	listings, looks int
}

// Hot blobs: a blob modified less than hotFor ago is looked at every Poll,
// as long as there are at most maxHot such blobs; more, and one listing is
// cheaper than the looks. hourStart is the window after the top of the hour
// during which the account is listed every Poll.
const (
	hotFor    = 65 * time.Minute
	maxHot    = 16
	hourStart = 2 * time.Minute
)

func (b *Blob) defaults() {
	if b.Poll <= 0 {
		b.Poll = time.Second
	}
	if b.List == 0 {
		b.List = 30 * time.Second
	}
	if b.Settle <= 0 {
		b.Settle = 10 * time.Second
	}
	if b.Segment <= 0 {
		b.Segment = 8 << 20
	}
	common(&b.Logger, &b.Now, &b.Status, b.Name, "blob")
}

// Check makes the account's client from the credentials, without
// calling the service: it fails when none are given, they are malformed
// or the connection string is another account's.
func (b *Blob) Check() error {
	if b.client != nil {
		return nil
	}
	opts := &service.ClientOptions{ClientOptions: azcore.ClientOptions{
		// A pass that fails is retried by Run, with a growing pause.
		Retry: policy.RetryOptions{MaxRetries: 2, TryTimeout: 2 * time.Minute},
	}}
	switch {
	case b.ConnectionString != "":
		if name := connStringAccount(b.ConnectionString); name != "" && !strings.EqualFold(name, b.Account) {
			return fmt.Errorf("%s is for account %s, not %s", EnvConnectionString, name, b.Account)
		}
		c, err := service.NewClientFromConnectionString(b.ConnectionString, opts)
		if err != nil {
			return fmt.Errorf("%s: %w", EnvConnectionString, err)
		}
		b.client = c
	case b.AccountKey != "":
		cred, err := service.NewSharedKeyCredential(b.Account, b.AccountKey)
		if err != nil {
			return fmt.Errorf("%s: %w", EnvStorageKey, err)
		}
		c, err := service.NewClientWithSharedKeyCredential("https://"+b.Account+".blob.core.windows.net/", cred, opts)
		if err != nil {
			return fmt.Errorf("account %s: %w", b.Account, err)
		}
		b.client = c
	default:
		return fmt.Errorf("no credentials for storage account %s: set %s or %s", b.Account, EnvConnectionString, EnvStorageKey)
	}
	return nil
}

// connStringAccount returns the AccountName of a connection string, or "".
func connStringAccount(cs string) string {
	for part := range strings.SplitSeq(cs, ";") {
		if k, v, ok := strings.Cut(part, "="); ok && strings.EqualFold(strings.TrimSpace(k), "AccountName") {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// Run follows the blobs until ctx ends. A pass that fails (the
// container is missing, the credentials are refused, the store refuses a
// batch) is retried with a growing pause; Status tells why meanwhile.
func (b *Blob) Run(ctx context.Context) error {
	b.defaults()
	return runPasses(ctx, b.Poll, b.Pass, b.Status, b.Logger, b.Now, b.Name)
}

// Pass lists the blobs once and ingests what is new.
func (b *Blob) Pass(ctx context.Context) error {
	b.defaults()
	if err := b.Check(); err != nil {
		return err
	}
	b.tail.name, b.tail.settle, b.tail.segment = b.Name, b.Settle, b.Segment
	b.tail.ingest, b.tail.checkpoints, b.tail.status, b.tail.logger, b.tail.now = b.Ingest, b.Checkpoints, b.Status, b.Logger, b.Now
	b.tail.place = blobs{b}
	return b.tail.pass(ctx)
}

// blobs is an account as a place of streams: the blobs of the containers
// followed, keyed CONTAINER/BLOB.
type blobs struct {
	b *Blob
}

// containers returns the containers followed.
func (p blobs) containers(ctx context.Context) ([]string, error) {
	if p.b.Container != "" {
		return []string{p.b.Container}, nil
	}
	var out []string
	pager := p.b.client.NewListContainersPager(&service.ListContainersOptions{Prefix: &p.b.Prefix})
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return nil, p.b.explain("list the containers of", "", err)
		}
		for _, it := range page.ContainerItems {
			if it != nil && it.Name != nil {
				out = append(out, *it.Name)
			}
		}
	}
	return out, nil
}

// list returns the blobs followed, in container and name order: a new
// listing when one is due, else the last one with its hot blobs looked at
// again.
func (p blobs) list(ctx context.Context) ([]stream, error) {
	b := p.b
	now := b.Now()
	hot := b.hot(now)
	due := b.listed == nil || b.List < 0 || now.Sub(b.listedAt) >= b.List || now.Sub(now.Truncate(time.Hour)) < hourStart ||
		len(hot) > maxHot
	if !due {
		if err := p.look(ctx, hot); err != nil {
			return nil, err
		}
		return b.listed, nil
	}
	out, err := p.listAll(ctx)
	if err != nil {
		return nil, err
	}
	b.listed, b.listedAt = out, now
	b.listings++
	return out, nil
}

// hot returns the indexes in the last listing of the blobs modified less
// than hotFor before now.
func (b *Blob) hot(now time.Time) []int {
	var out []int
	for i, s := range b.listed {
		if now.Sub(s.modified) < hotFor {
			out = append(out, i)
		}
	}
	return out
}

// look refreshes the size, time and tag of the listed blobs at idx from
// their properties, a few at a time, and drops those that are gone.
func (p blobs) look(ctx context.Context, idx []int) error {
	b := p.b
	type answer struct {
		s    stream
		gone bool
		err  error
	}
	answers := make([]answer, len(idx))
	sem := make(chan struct{}, 8)
	var wg sync.WaitGroup
	for j, i := range idx {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			s := b.listed[i]
			name, blobName, _ := strings.Cut(s.key, "/")
			props, err := b.client.NewContainerClient(name).NewBlobClient(blobName).GetProperties(ctx, nil)
			switch {
			case bloberror.HasCode(err, bloberror.BlobNotFound, bloberror.ContainerNotFound) ||
				(err != nil && isNotFound(err)):
				answers[j].gone = true
			case err != nil:
				answers[j].err = b.explain("look at "+blobName+" in", name, err)
			default:
				if props.ContentLength != nil {
					s.size = *props.ContentLength
				}
				if props.LastModified != nil {
					s.modified = *props.LastModified
				}
				if props.CreationTime != nil {
					s.tag = creationTag(*props.CreationTime)
				}
				answers[j].s = s
			}
		}()
	}
	wg.Wait()
	b.looks += len(idx)
	gone := false
	for j, i := range idx {
		switch a := answers[j]; {
		case a.err != nil:
			return a.err
		case a.gone:
			gone = true
			b.listed[i].key = ""
		default:
			b.listed[i] = a.s
		}
	}
	if gone {
		kept := b.listed[:0]
		for _, s := range b.listed {
			if s.key != "" {
				kept = append(kept, s)
			}
		}
		b.listed = kept
	}
	return nil
}

// isNotFound reports a 404 answer without an error code, which is what a
// HEAD request (GetProperties) of a missing blob gets.
func isNotFound(err error) bool {
	var re *azcore.ResponseError
	return errors.As(err, &re) && re.StatusCode == http.StatusNotFound
}

// listAll lists the blobs followed, in container and name order.
func (p blobs) listAll(ctx context.Context) ([]stream, error) {
	names, err := p.containers(ctx)
	if err != nil {
		return nil, err
	}
	var out []stream
	for _, name := range names {
		opts := &container.ListBlobsFlatOptions{}
		if p.b.Container != "" {
			opts.Prefix = &p.b.Prefix
		}
		pager := p.b.client.NewContainerClient(name).NewListBlobsFlatPager(opts)
		for pager.More() {
			page, err := pager.NextPage(ctx)
			if p.b.Container == "" && bloberror.HasCode(err, bloberror.ContainerNotFound, bloberror.ContainerBeingDeleted) {
				break // deleted since it was listed
			}
			if err != nil {
				return nil, p.b.explain("list", name, err)
			}
			if page.Segment == nil {
				continue
			}
			for _, it := range page.Segment.BlobItems {
				if it == nil || it.Name == nil || it.Properties == nil {
					continue
				}
				s := stream{key: name + "/" + *it.Name}
				if it.Properties.ContentLength != nil {
					s.size = *it.Properties.ContentLength
				}
				if it.Properties.LastModified != nil {
					s.modified = *it.Properties.LastModified
				}
				if it.Properties.CreationTime != nil {
					s.tag = creationTag(*it.Properties.CreationTime)
				}
				out = append(out, s)
			}
		}
	}
	return out, nil
}

// open downloads a range of a blob. A blob gone, shorter than the range's
// start or created anew since it was listed is errGone.
func (p blobs) open(ctx context.Context, s stream, off, n int64) (io.ReadCloser, error) {
	if n <= 0 {
		return io.NopCloser(strings.NewReader("")), nil
	}
	name, blobName, _ := strings.Cut(s.key, "/")
	resp, err := p.b.client.NewContainerClient(name).NewBlobClient(blobName).DownloadStream(ctx, &blob.DownloadStreamOptions{
		Range: blob.HTTPRange{Offset: off, Count: n},
	})
	if bloberror.HasCode(err, bloberror.BlobNotFound, bloberror.ContainerNotFound, bloberror.InvalidRange) {
		return nil, errGone
	}
	if err != nil {
		return nil, p.b.explain("read "+blobName+" in", name, err)
	}
	if s.tag != "" && resp.CreationTime != nil && creationTag(*resp.CreationTime) != s.tag {
		resp.Body.Close()
		return nil, errGone
	}
	return resp.Body, nil
}

// creationTag is the checkpoint tag of a blob created at t.
func creationTag(t time.Time) string {
	return "created " + t.UTC().Format(time.RFC3339Nano)
}

// explain turns a failed call on a container (or, when it is "", on the
// account) into an error saying what to do about it, without the
// service's whole response.
func (b *Blob) explain(op, containerName string, err error) error {
	where := "storage account " + b.Account
	if containerName != "" {
		where = fmt.Sprintf("container %s of storage account %s", containerName, b.Account)
	}
	var re *azcore.ResponseError
	if !errors.As(err, &re) {
		return fmt.Errorf("%s %s: %w", op, where, err)
	}
	creds := EnvStorageKey
	if b.ConnectionString != "" {
		creds = EnvConnectionString
	}
	switch {
	case re.ErrorCode == string(bloberror.ContainerNotFound):
		return fmt.Errorf("%s %s: the container does not exist", op, where)
	case re.ErrorCode == string(bloberror.AuthenticationFailed):
		return fmt.Errorf("%s %s: the account refused the credentials of %s (%s)", op, where, creds, re.ErrorCode)
	case re.ErrorCode == string(bloberror.AuthorizationFailure):
		return fmt.Errorf("%s %s: the account refused the request (%s): check the credentials of %s, "+
			"and that the account's network rules let this machine in", op, where, re.ErrorCode, creds)
	case re.StatusCode == http.StatusForbidden:
		return fmt.Errorf("%s %s: the credentials of %s may not list and read there (%s)", op, where, creds, re.ErrorCode)
	case re.ErrorCode != "":
		return fmt.Errorf("%s %s: %s (HTTP %d)", op, where, re.ErrorCode, re.StatusCode)
	default:
		return fmt.Errorf("%s %s: HTTP %d", op, where, re.StatusCode)
	}
}
