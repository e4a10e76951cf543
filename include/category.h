/* category.h: the eight call categories of a 12320 centre. */
#ifndef HOTLINE_CATEGORY_H
#define HOTLINE_CATEGORY_H

enum category {
	CATEGORY_CONSULTATION,
	CATEGORY_COMPLAINT,
	CATEGORY_BOOKING,
	CATEGORY_EXPERT_QA,
	CATEGORY_CRISIS,
	CATEGORY_SURVEY,
	CATEGORY_IVR_SELF_SERVICE,
	CATEGORY_OTHER,
	CATEGORY_COUNT
};

/* "consultation", "complaint", ... in the order of the enum (the profile's order). */
const char *category_name(enum category c);

/* Chinese label used in exports for people ("咨询类" ...). */
const char *category_label_zh(enum category c);

/* Returns 0 and sets *out, or -1 for an unknown name. */
int category_from_name(const char *name, enum category *out) __attribute__((warn_unused_result));

#endif
