/* category.c: category names, for the wire, the database and the exports. */
#include "category.h"

#include <string.h>

static const char *const category_names[CATEGORY_COUNT] = {
	"consultation", "complaint", "booking", "expert_qa",
	"crisis",       "survey",    "ivr_self_service", "other",
};

static const char *const category_labels_zh[CATEGORY_COUNT] = {
	"咨询类（不含专家咨询）", "医疗服务投诉", "电话预约", "专家在线答疑",
	"心理危机干预",           "医院满意度调查", "自助语音问答", "其他",
};

const char *category_name(enum category c)
{
	return (unsigned)c < CATEGORY_COUNT ? category_names[c] : "other";
}

const char *category_label_zh(enum category c)
{
	return (unsigned)c < CATEGORY_COUNT ? category_labels_zh[c] : "其他";
}

int category_from_name(const char *name, enum category *out)
{
	for (int i = 0; i < CATEGORY_COUNT; i++) {
		if (strcmp(name, category_names[i]) == 0) {
			*out = (enum category)i;
			return 0;
		}
	}
	return -1;
}
