// MissCounters: the trigger fires once per page and interval, reset() and
// clear_page() start over, and concurrent adders lose nothing.
#include <gtest/gtest.h>

#include <algorithm>
#include <thread>
#include <vector>

#include "numa-model/miss_counters.h"

namespace disco {
namespace {

TEST(MissCounters, CountsPerPageAndNode) {
  MissCounters c(8, 2, 100);
  c.add(3, 0, 10, false);
  c.add(3, 1, 5, false);
  c.add(3, 1, 5, false);
  EXPECT_EQ(c.count(3, 0), 10u);
  EXPECT_EQ(c.count(3, 1), 10u);
  EXPECT_EQ(c.total(3), 20u);
  EXPECT_EQ(c.total(2), 0u);
  EXPECT_FALSE(c.written(3));
  c.add(3, 0, 1, true);
  EXPECT_TRUE(c.written(3));
  EXPECT_FALSE(c.written(2));
}

TEST(MissCounters, OutOfRangeIsIgnored) {
  MissCounters c(4, 2, 1);
  c.add(4, 0, 100, true);       // the zero page sits past the pools
  c.add(kNoPage, 0, 100, true);
  c.add(1, 2, 100, true);       // no such node
  EXPECT_TRUE(c.take_hot().empty());
  EXPECT_EQ(c.count(4, 0), 0u);
  EXPECT_EQ(c.total(1), 0u);
  EXPECT_FALSE(c.written(4));
}

TEST(MissCounters, TriggerQueuesAPageOnce) {
  MissCounters c(8, 2, 64);
  c.add(5, 1, 63, false);
  EXPECT_TRUE(c.take_hot().empty());
  c.add(5, 1, 64, false);  // 63 -> 127: crosses
  c.add(5, 1, 64, false);  // already above
  c.add(5, 0, 64, false);  // another node crosses: the page is already queued
  const std::vector<HotPage> hot = c.take_hot();
  ASSERT_EQ(hot.size(), 1u);
  EXPECT_EQ(hot[0].page, 5u);
  EXPECT_EQ(hot[0].node, 1u);
  // Taken: the counts stay above the trigger, so nothing crosses again
  // until a new interval.
  c.add(5, 1, 1000, false);
  EXPECT_TRUE(c.take_hot().empty());
}

TEST(MissCounters, ExactlyReachingTheTriggerIsHot) {
  MissCounters c(2, 1, 64);
  c.add(0, 0, 64, false);
  ASSERT_EQ(c.take_hot().size(), 1u);
}

TEST(MissCounters, ZeroTriggerMakesNothingHot) {
  MissCounters c(2, 1, 0);
  c.add(0, 0, 1000, false);
  EXPECT_TRUE(c.take_hot().empty());
  EXPECT_EQ(c.count(0, 0), 1000u);
}

TEST(MissCounters, ResetStartsANewInterval) {
  MissCounters c(16, 2, 10);
  c.add(1, 0, 10, true);
  c.add(2, 1, 4, false);
  c.add(9, 1, 20, false);
  c.reset();  // page 9 is queued and not taken: dropped
  for (MPage p = 0; p < 16; ++p) {
    EXPECT_EQ(c.total(p), 0u) << p;
    EXPECT_FALSE(c.written(p)) << p;
  }
  EXPECT_TRUE(c.take_hot().empty());
  // Page 1 can become hot again, once.
  c.add(1, 0, 10, false);
  c.add(1, 0, 10, false);
  const auto hot = c.take_hot();
  ASSERT_EQ(hot.size(), 1u);
  EXPECT_EQ(hot[0].page, 1u);
  EXPECT_FALSE(c.written(1));
}

TEST(MissCounters, ClearPageForgetsOnlyThatPage) {
  MissCounters c(16, 2, 10);
  c.add(3, 0, 12, true);
  c.add(4, 1, 12, true);
  c.clear_page(3);  // queued and not taken: it leaves the queue
  EXPECT_EQ(c.total(3), 0u);
  EXPECT_FALSE(c.written(3));
  EXPECT_EQ(c.count(4, 1), 12u);
  EXPECT_TRUE(c.written(4));
  auto hot = c.take_hot();
  ASSERT_EQ(hot.size(), 1u);
  EXPECT_EQ(hot[0].page, 4u);
  // The cleared page counts afresh, and a later reset() still clears it.
  c.add(3, 1, 10, false);
  hot = c.take_hot();
  ASSERT_EQ(hot.size(), 1u);
  EXPECT_EQ(hot[0].page, 3u);
  EXPECT_EQ(hot[0].node, 1u);
  c.reset();
  EXPECT_EQ(c.total(3), 0u);
}

// Several threads add to the same pages (run under ThreadSanitizer too:
// meson setup build-tsan -Db_sanitize=thread). Each node's count of a page
// crosses the trigger once: the page is queued once, or twice when the
// policy took it between the two nodes' crossings (a second node's
// crossing is news for the policy), never more; totals are exact.
TEST(MissCounters, ConcurrentAddersQueueEachPageOnce) {
  constexpr unsigned kThreads = 4, kPages = 512, kRounds = 40;
  MissCounters c(kPages, 2, 64);
  std::vector<HotPage> taken;
  std::vector<std::thread> threads;
  for (unsigned t = 0; t < kThreads; ++t) {
    threads.emplace_back([&c, t] {
      for (unsigned r = 0; r < kRounds; ++r)
        for (MPage p = 0; p < kPages; ++p) c.add((p * 7 + t * 13) % kPages, t % 2, 8, (p + r) % 5 == 0);
    });
  }
  // The policy takes the queue while they run.
  for (int i = 0; i < 50; ++i) {
    auto h = c.take_hot();
    taken.insert(taken.end(), h.begin(), h.end());
    std::this_thread::yield();
  }
  for (auto& th : threads) th.join();
  auto h = c.take_hot();
  taken.insert(taken.end(), h.begin(), h.end());
  std::vector<unsigned> times(kPages, 0);
  for (const HotPage& h : taken) ++times[h.page];
  for (MPage p = 0; p < kPages; ++p) {
    EXPECT_GE(times[p], 1u) << "page " << p;
    EXPECT_LE(times[p], 2u) << "page " << p;
    EXPECT_EQ(c.count(p, 0), 8u * kRounds * kThreads / 2);
    EXPECT_EQ(c.count(p, 1), 8u * kRounds * kThreads / 2);
    EXPECT_TRUE(c.written(p));
  }
}

}  // namespace
}  // namespace disco
