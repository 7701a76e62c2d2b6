/* The bounded XML scanner for S3's replies (backends/s3/s3_xml.c). */
#include <criterion/criterion.h>
#include <string.h>

#include "backends/s3/s3_xml.h"

static bs_s3_span span(const char *s)
{
    return (bs_s3_span){s, strlen(s)};
}

Test(s3_xml, list_page)
{
    const char *page =
        "<?xml version=\"1.0\"?><ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/"
        "2006-03-01/\"><KeyCount>2</KeyCount><IsTruncated>true</IsTruncated>"
        "<NextContinuationToken>tok/+=</NextContinuationToken>"
        "<Contents><Key>p/</Key><Size>0</Size></Contents>"
        "<Contents ><Key>p/a&amp;b&#x41;&#66;&lt;</Key><Size>12</Size></Contents>"
        "<CommonPrefixes><Prefix>p/d/</Prefix></CommonPrefixes></ListBucketResult>";
    bs_s3_span in = span(page), c;
    char key[64];
    uint64_t size;
    cr_assert(bs__s3_xml_next(&in, "Contents", &c));
    cr_assert_eq(bs__s3_xml_text(c, "Key", key, sizeof key), 2);
    cr_assert_str_eq(key, "p/");
    cr_assert(bs__s3_xml_next(&in, "Contents", &c));
    cr_assert_eq(bs__s3_xml_text(c, "Key", key, sizeof key), 8);
    cr_assert_str_eq(key, "p/a&bAB<");
    cr_assert(bs__s3_xml_u64(c, "Size", &size));
    cr_assert_eq(size, 12);
    cr_assert_not(bs__s3_xml_next(&in, "Contents", &c));
    /* <KeyCount> is not <Key> */
    uint64_t kc;
    cr_assert(bs__s3_xml_u64(span(page), "KeyCount", &kc));
    cr_assert_eq(kc, 2);
    cr_assert_eq(bs__s3_xml_text(span("<KeyCount>2</KeyCount>"), "Key", key, sizeof key), -1);
    cr_assert_eq(bs__s3_xml_text(span(page), "NextContinuationToken", key, sizeof key), 6);
    cr_assert_str_eq(key, "tok/+=");
}

Test(s3_xml, bounds_and_malformed_input)
{
    char out[8];
    /* too long for out, unterminated, unknown entity, NUL reference, bad numbers */
    cr_assert_eq(bs__s3_xml_text(span("<K>123456789</K>"), "K", out, sizeof out), -2);
    cr_assert_eq(bs__s3_xml_text(span("<K>abc"), "K", out, sizeof out), -1);
    cr_assert_eq(bs__s3_xml_text(span("<K>&nbsp;</K>"), "K", out, sizeof out), -2);
    cr_assert_eq(bs__s3_xml_text(span("<K>&#0;</K>"), "K", out, sizeof out), -2);
    cr_assert_eq(bs__s3_xml_text(span("<K>&#xD800;</K>"), "K", out, sizeof out), -2);
    cr_assert_eq(bs__s3_xml_text(span("<K>&#65</K>"), "K", out, sizeof out), -2);
    cr_assert_eq(bs__s3_xml_text(span("<K/><K>x</K>"), "K", out, sizeof out), 0);
    uint64_t v;
    cr_assert_not(bs__s3_xml_u64(span("<S>-1</S>"), "S", &v));
    cr_assert_not(bs__s3_xml_u64(span("<S>99999999999999999999</S>"), "S", &v));
    cr_assert_not(bs__s3_xml_u64(span("<S></S>"), "S", &v));
    /* a span cut short is never read past */
    const char *s = "<K>abc</K>";
    bs_s3_span cut = {s, 8};
    cr_assert_eq(bs__s3_xml_text(cut, "K", out, sizeof out), -1);
}
