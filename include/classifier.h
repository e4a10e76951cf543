/* classifier.h: which category, queue and priority a new call gets.
 *
 * Rules come from YAML (classifier.rules_file, see conf/rules.yaml): an
 * ordered list, each with match conditions that must all hold and a result;
 * the first matching rule wins, else the default. The classifier is pure:
 * the caller passes the local clock in; nothing here reads time or does I/O
 * after loading. A loaded classifier is immutable and may be shared.
 */
#ifndef HOTLINE_CLASSIFIER_H
#define HOTLINE_CLASSIFIER_H

#include <stddef.h>

#include "category.h"

struct classifier;

struct classify_input {
	const char *dialled;       /* the number the caller dialled */
	const char *ivr_path;      /* digits pressed in the IVR, "" if none */
	const char *const *flags;  /* caller flags, e.g. "recent_crisis" */
	size_t n_flags;
	int minute_of_day;         /* local, 0..1439 */
	int weekday;               /* local ISO weekday, 1 = Monday .. 7 = Sunday */
};

struct classify_result {
	enum category category;
	const char *queue; /* owned by the classifier */
	int priority;      /* 0 is served first */
	const char *rule;  /* the matching rule's name, or "default" */
};

/* Loads rules from a file or buffer (name used in messages). Returns 0 and
 * *out, or -1 with "FILE:LINE:COL: rules[i].field: what is wrong" in err. */
int classifier_load_file(const char *path, struct classifier **out, char *err, size_t err_len)
	__attribute__((warn_unused_result));
int classifier_load_buffer(const char *name, const char *buf, size_t len, struct classifier **out,
			   char *err, size_t err_len) __attribute__((warn_unused_result));

void classifier_classify(const struct classifier *c, const struct classify_input *in,
			 struct classify_result *out);

size_t classifier_rule_count(const struct classifier *c);

void classifier_free(struct classifier *c);

#endif
