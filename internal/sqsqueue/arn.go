package sqsqueue

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
)

// regionLabel matches an AWS region name such as us-east-1, us-gov-west-1
// or cn-north-1.
var regionLabel = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+$`)

// ARNFromURL derives a queue's ARN, and the region it names, from the
// queue's URL, in any of the forms listed in the package documentation. The
// region named in the URL's host or path wins over region, which is used
// only when the URL names none.
func ARNFromURL(queueURL, region string) (arn, arnRegion string, err error) {
	u, err := url.Parse(queueURL)
	if err != nil {
		return "", "", fmt.Errorf("queue URL %q: %w", queueURL, err)
	}
	if u.Host == "" {
		return "", "", fmt.Errorf("queue URL %q: no host", queueURL)
	}
	segs := strings.Split(strings.Trim(u.Path, "/"), "/")
	if len(segs) == 4 && segs[0] == "queue" && regionLabel.MatchString(segs[1]) {
		region, segs = segs[1], segs[2:] // LocalStack's path strategy
	} else {
		for label := range strings.SplitSeq(u.Hostname(), ".") {
			if regionLabel.MatchString(label) {
				region = label
				break
			}
		}
	}
	if len(segs) != 2 || !isDigits(segs[0]) || segs[1] == "" {
		return "", "", fmt.Errorf("queue URL %q: path is not /<account>/<queue name>", queueURL)
	}
	if region == "" {
		return "", "", fmt.Errorf("queue URL %q names no region and none was given", queueURL)
	}
	return fmt.Sprintf("arn:%s:sqs:%s:%s:%s", partition(region), region, segs[0], segs[1]), region, nil
}

// partition returns the ARN partition of a region.
func partition(region string) string {
	switch {
	case strings.HasPrefix(region, "cn-"):
		return "aws-cn"
	case strings.HasPrefix(region, "us-gov-"):
		return "aws-us-gov"
	case strings.HasPrefix(region, "us-isob-"):
		return "aws-iso-b"
	case strings.HasPrefix(region, "us-iso-"):
		return "aws-iso"
	default:
		return "aws"
	}
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
