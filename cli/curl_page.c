/* SPDX-License-Identifier: MIT */
/*
 * curl_page.c - tba curl --paginate: NetSuite's collections, every page.
 *
 * REST record lists and SuiteQL answer one page at a time:
 *   {"links": [{"rel": "next", "href": URL}, ...], "items": [...], "hasMore": ...}
 * The next page is the "next" link, sent with the same method, headers and
 * body (SuiteQL's POST is re-sent with its Prefer: transient), signed
 * afresh, on the same handle so the TLS connection is kept. The items are
 * printed as they arrive: one JSON array over all pages, or (=lines) one
 * compact item per line. A page that fails stops the run with exit 22 (an
 * HTTP error: what --fail does, since the output is incomplete either way)
 * or curl's code for a transfer failure; the array is then left unclosed,
 * so no JSON parser mistakes a partial list for a whole one.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli.h"
#include "curl.h"

#define CURL_PAGE_MAX 100000 /* pages in one run: a server that links in a loop ends */

/* The href of links[rel=next] in page, or NULL. */
static const char *
curl_page_next(const cJSON *page)
{
	const cJSON *links = cJSON_GetObjectItemCaseSensitive(page, "links"), *l, *rel, *href;

	cJSON_ArrayForEach(l, links)
	{
		rel = cJSON_GetObjectItemCaseSensitive(l, "rel");
		href = cJSON_GetObjectItemCaseSensitive(l, "href");
		if (cJSON_IsString(rel) && strcmp(rel->valuestring, "next") == 0 &&
		    cJSON_IsString(href) && href->valuestring[0] != '\0')
			return href->valuestring;
	}
	return NULL;
}

/* NetSuite's o:errorDetails[0].detail of an error body, or "". */
static const char *
curl_page_detail(const cJSON *body)
{
	const cJSON *d = cJSON_GetObjectItemCaseSensitive(body, "o:errorDetails");
	const cJSON *s = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(d, 0), "detail");

	return cJSON_IsString(s) ? s->valuestring : "";
}

/* Prints the items of one page. 0, or -1 when the output cannot be written. */
static int
curl_page_print(struct curl_out *w, const cJSON *items, long *count)
{
	const cJSON *it;
	FILE *f = curl_out_file(w);
	char *s;
	int bad = f == NULL;

	cJSON_ArrayForEach(it, items)
	{
		if (bad)
			break;
		s = cJSON_PrintUnformatted(it);
		if (s == NULL) {
			bad = 1;
			break;
		}
		if (w->o->paginate == PAGE_ARRAY && *count > 0)
			bad |= fputs(",\n", f) < 0;
		bad |= fputs(s, f) < 0;
		if (w->o->paginate == PAGE_LINES)
			bad |= fputc('\n', f) == EOF;
		(*count)++;
		free(s);
	}
	return bad ? -1 : 0;
}

/*
 * Reads one page that arrived (body in w->page): prints its items and sets
 * *next to a copy of its next link (NULL on the last page). Returns -1 to
 * go on, else the exit code (message printed).
 */
static int
curl_page_one(struct curl_out *w, long n, const char *url, long *count, char **next)
{
	cJSON *page = cJSON_ParseWithLength(w->page.data != NULL ? w->page.data : "", w->page.len);
	const cJSON *items = cJSON_GetObjectItemCaseSensitive(page, "items");
	const char *nx;
	int ret = -1;

	*next = NULL;
	if (w->resp->status >= 400) {
		fprintf(stderr, "tba curl: (22) page %ld (%s) returned error: %ld%s%s\n", n, url,
		    w->resp->status, curl_page_detail(page)[0] != '\0' ? ": " : "",
		    curl_page_detail(page));
		snprintf(w->info.errormsg, sizeof(w->info.errormsg), "page %ld returned error: %ld",
		    n, w->resp->status);
		ret = TBA_EXIT_HTTP;
	} else if (!cJSON_IsArray(items)) {
		fprintf(stderr,
		    "tba curl: page %ld (%s) is not a NetSuite collection (no \"items\" "
		    "array); --paginate is for record lists and SuiteQL\n",
		    n, url);
		ret = TBA_EXIT_FAIL;
	} else if (curl_page_print(w, items, count) != 0) {
		fprintf(stderr, "tba curl: cannot write the items of page %ld\n", n);
		ret = CURLE_WRITE_ERROR;
	} else {
		nx = curl_page_next(page);
		if (nx != NULL && strcmp(nx, url) != 0 && (*next = strdup(nx)) == NULL)
			ret = TBA_EXIT_FAIL;
	}
	cJSON_Delete(page);
	return ret;
}

int
curl_page_all(struct curl_run *run, struct curl_out *w, const char *url)
{
	char *cur = strdup(url), *next = NULL;
	long n = 0, count = 0;
	FILE *f = curl_out_file(w);
	int ret = cur == NULL || f == NULL ? TBA_EXIT_FAIL : -1;

	w->capture = 1;
	if (ret < 0 && w->o->paginate == PAGE_ARRAY && fputs("[\n", f) < 0)
		ret = CURLE_WRITE_ERROR;
	while (ret < 0 && cur != NULL) {
		if (++n > CURL_PAGE_MAX) {
			fprintf(stderr, "tba curl: more than %d pages; stopped\n", CURL_PAGE_MAX);
			ret = TBA_EXIT_FAIL;
			break;
		}
		tba_buf_reset(&w->page);
		ret = curl_send(run, cur);
		if (ret >= 0) {
			fprintf(stderr, "tba curl: page %ld (%s) failed\n", n, cur);
			break;
		}
		ret = curl_page_one(w, n, cur, &count, &next);
		free(cur);
		cur = next;
		next = NULL;
	}
	if (ret < 0 && w->o->paginate == PAGE_ARRAY && fputs(count > 0 ? "\n]\n" : "]\n", f) < 0)
		ret = CURLE_WRITE_ERROR;
	free(cur);
	return ret < 0 ? TBA_EXIT_OK : ret;
}
