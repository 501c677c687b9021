//===- EpisodesTest.cpp - N-way K-shot episodes ---------------------------===//
//
// On a synthetic set whose images say which class and drawer they are, so
// every row of an episode can be traced back to its source.
//
//===----------------------------------------------------------------------===//

#include "metac/runtime/Episodes.h"
#include "metac/runtime/Error.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

using namespace metac::runtime;

namespace {

constexpr int Side = 8;

/// Two background alphabets of 6 classes and one evaluation alphabet of 4;
/// each class has Images images. Pixel values are distinct per (class,
/// image, position), so no two images and no two rotations are alike.
ClassImageSet syntheticSet(int Images = 20) {
  ClassImageSet Set;
  Set.Height = Set.Width = Side;
  Set.Alphabets = {{"A", Split::Background},
                   {"B", Split::Background},
                   {"C", Split::Evaluation}};
  int Counts[] = {6, 6, 4};
  std::vector<uint8_t> Data;
  for (int A = 0; A < 3; ++A)
    for (int C = 0; C < Counts[A]; ++C) {
      int Class = static_cast<int>(Set.Classes.size());
      Data.clear();
      for (int I = 0; I < Images; ++I)
        for (int P = 0; P < Side * Side; ++P)
          Data.push_back(
              static_cast<uint8_t>((Class * 31 + I * 7 + P * P) % 251));
      Set.addClass(A, "c" + std::to_string(Class), Data.data(), Images);
    }
  return Set;
}

struct Episode {
  std::vector<float> SX, SY, QX, QY;
  EpisodeInfo Info;
};

Episode sample(const EpisodeSampler &S, uint64_t Key) {
  const EpisodeShape &Sh = S.shape();
  Episode E;
  E.SX.resize(Sh.Way * Sh.Shots * S.imageSize());
  E.SY.resize(Sh.Way * Sh.Shots * Sh.labelWidth());
  E.QX.resize(Sh.Way * Sh.QueryPerClass * S.imageSize());
  E.QY.resize(Sh.Way * Sh.QueryPerClass * Sh.labelWidth());
  S.sample(Key, E.SX.data(), E.SY.data(), E.QX.data(), E.QY.data(), &E.Info);
  return E;
}

/// The label of each row of a one-hot matrix; fails the test if a row is
/// not one-hot.
std::vector<int> labels(const std::vector<float> &Y, int Way) {
  std::vector<int> L;
  for (size_t R = 0; R < Y.size() / Way; ++R) {
    int Ones = 0, Label = -1;
    for (int J = 0; J < Way; ++J) {
      float V = Y[R * Way + J];
      EXPECT_TRUE(V == 0.0f || V == 1.0f);
      if (V == 1.0f)
        ++Ones, Label = J;
    }
    EXPECT_EQ(Ones, 1) << "row " << R;
    L.push_back(Label);
  }
  return L;
}

/// Expected floats of image Image of class Class turned Quarter times.
std::vector<float> expected(const ClassImageSet &Set, int Class, int Image,
                            int Quarter) {
  std::vector<uint8_t> Turned(Set.imageSize());
  rotateQuarter(Set.image(Class, Image), Side, Quarter, Turned.data());
  std::vector<float> F;
  for (uint8_t B : Turned)
    F.push_back(B / 255.0f);
  return F;
}

} // namespace

TEST(EpisodesTest, RotateQuarterIsCounterClockwise) {
  // Top-right corner goes to the top-left after a quarter turn
  // counter-clockwise; four turns are the identity.
  std::vector<int> Img(9), Out(9), Back(9);
  for (int I = 0; I < 9; ++I)
    Img[I] = I;
  rotateQuarter(Img.data(), 3, 1, Out.data());
  EXPECT_EQ(Out, (std::vector<int>{2, 5, 8, 1, 4, 7, 0, 3, 6}));
  rotateQuarter(Img.data(), 3, 2, Out.data());
  EXPECT_EQ(Out, (std::vector<int>{8, 7, 6, 5, 4, 3, 2, 1, 0}));
  rotateQuarter(Img.data(), 3, 3, Out.data());
  EXPECT_EQ(Out, (std::vector<int>{6, 3, 0, 7, 4, 1, 8, 5, 2}));
  Back = Img;
  for (int K = 0; K < 4; ++K) {
    rotateQuarter(Back.data(), 3, 1, Out.data());
    Back = Out;
  }
  EXPECT_EQ(Back, Img);
}

TEST(EpisodesTest, LayoutLabelsAndDisjointDrawers) {
  ClassImageSet Set = syntheticSet();
  EpisodeSampler S(Set, Split::Background, {5, 3, 4, false});
  EXPECT_EQ(S.numClasses(), 12);
  for (uint64_t Key = 1; Key <= 20; ++Key) {
    Episode E = sample(S, Key);
    std::vector<int> SL = labels(E.SY, 5), QL = labels(E.QY, 5);
    // Labels are a permutation of 0..4, constant within a class block.
    std::set<int> Used(E.Info.Labels.begin(), E.Info.Labels.end());
    EXPECT_EQ(Used.size(), 5u);
    std::set<int> Distinct(E.Info.Classes.begin(), E.Info.Classes.end());
    EXPECT_EQ(Distinct.size(), 5u);
    for (int J = 0; J < 5; ++J) {
      int Class = E.Info.Classes[J];
      EXPECT_EQ(Set.Classes[Class].DataSplit, Split::Background);
      for (int I = 0; I < 3; ++I) {
        EXPECT_EQ(SL[J * 3 + I], E.Info.Labels[J]);
        std::vector<float> Want =
            expected(Set, Class, E.Info.SupportImages[J][I], 0);
        EXPECT_TRUE(std::equal(Want.begin(), Want.end(),
                               E.SX.begin() + (J * 3 + I) * S.imageSize()));
      }
      for (int I = 0; I < 4; ++I) {
        EXPECT_EQ(QL[J * 4 + I], E.Info.Labels[J]);
        std::vector<float> Want =
            expected(Set, Class, E.Info.QueryImages[J][I], 0);
        EXPECT_TRUE(std::equal(Want.begin(), Want.end(),
                               E.QX.begin() + (J * 4 + I) * S.imageSize()));
      }
      // Support and query drawers are disjoint (and distinct within each).
      std::set<int> Drawers(E.Info.SupportImages[J].begin(),
                            E.Info.SupportImages[J].end());
      Drawers.insert(E.Info.QueryImages[J].begin(),
                     E.Info.QueryImages[J].end());
      EXPECT_EQ(Drawers.size(), 7u);
    }
  }
}

TEST(EpisodesTest, DeterministicInTheTaskKey) {
  ClassImageSet Set = syntheticSet();
  EpisodeSampler S(Set, Split::Background, {5, 1, 5, true});
  Episode A = sample(S, 42), B = sample(S, 42), C = sample(S, 43);
  EXPECT_EQ(A.SX, B.SX);
  EXPECT_EQ(A.SY, B.SY);
  EXPECT_EQ(A.QX, B.QX);
  EXPECT_EQ(A.QY, B.QY);
  EXPECT_NE(A.SX, C.SX);
  // The free function gives the same episode.
  std::vector<float> SX(A.SX.size()), SY(A.SY.size()), QX(A.QX.size()),
      QY(A.QY.size());
  sampleEpisode(Set, Split::Background, 42, 5, 1, 5, true, SX.data(), SY.data(),
                QX.data(), QY.data());
  EXPECT_EQ(SX, A.SX);
  EXPECT_EQ(QY, A.QY);
}

TEST(EpisodesTest, LabelsAndClassesVaryOverTasks) {
  ClassImageSet Set = syntheticSet();
  EpisodeSampler S(Set, Split::Background, {5, 1, 1, false});
  std::set<std::vector<int>> Perms;
  std::vector<int> Seen(Set.Classes.size());
  for (uint64_t Key = 0; Key < 200; ++Key) {
    Episode E = sample(S, Key);
    Perms.insert(E.Info.Labels);
    for (int C : E.Info.Classes)
      ++Seen[C];
  }
  EXPECT_GT(Perms.size(), 50u);
  // Every background class is drawn about 200 * 5 / 12 = 83 times.
  for (size_t C = 0; C < Seen.size(); ++C) {
    if (Set.Classes[C].DataSplit == Split::Background)
      EXPECT_GT(Seen[C], 50) << C;
    else
      EXPECT_EQ(Seen[C], 0) << C;
  }
}

TEST(EpisodesTest, RotationsAreExtraClasses) {
  ClassImageSet Set = syntheticSet();
  // Evaluation: 4 classes, 16 with rotations, so 10-way works only with
  // rotations.
  EXPECT_THROW(EpisodeSampler(Set, Split::Evaluation, {10, 1, 1, false}),
               Error);
  EpisodeSampler S(Set, Split::Evaluation, {10, 2, 3, true});
  EXPECT_EQ(S.numClasses(), 16);
  std::set<int> Quarters;
  for (uint64_t Key = 0; Key < 10; ++Key) {
    Episode E = sample(S, Key);
    for (int J = 0; J < 10; ++J) {
      int Expanded = E.Info.Classes[J];
      int Class = Expanded / 4, Quarter = Expanded % 4;
      Quarters.insert(Quarter);
      ASSERT_EQ(Set.Classes[Class].DataSplit, Split::Evaluation);
      for (int I = 0; I < 2; ++I) {
        std::vector<float> Want =
            expected(Set, Class, E.Info.SupportImages[J][I], Quarter);
        EXPECT_TRUE(std::equal(Want.begin(), Want.end(),
                               E.SX.begin() + (J * 2 + I) * S.imageSize()));
      }
      for (int I = 0; I < 3; ++I) {
        std::vector<float> Want =
            expected(Set, Class, E.Info.QueryImages[J][I], Quarter);
        EXPECT_TRUE(std::equal(Want.begin(), Want.end(),
                               E.QX.begin() + (J * 3 + I) * S.imageSize()));
      }
    }
  }
  EXPECT_EQ(Quarters.size(), 4u);
}

TEST(EpisodesTest, PretrainingLabelsNameTheClass) {
  ClassImageSet Set = syntheticSet();
  // 12 background classes, 48 with rotations; labels 50 wide.
  EpisodeShape Shape{5, 1, 2, true, 50, true};
  EpisodeSampler S(Set, Split::Background, Shape);
  for (uint64_t Key = 0; Key < 20; ++Key) {
    Episode E = sample(S, Key);
    for (int J = 0; J < 5; ++J) {
      // The label is the class's index among the split's expanded classes:
      // the same class always gets the same label, whatever the episode.
      int Expanded = E.Info.Classes[J];
      int Label = E.Info.Labels[J];
      EXPECT_EQ(Label / 4, Expanded / 4) << "background classes come first";
      EXPECT_EQ(Label % 4, Expanded % 4);
      for (int Row : {J * 2, J * 2 + 1})
        for (int Col = 0; Col < 50; ++Col)
          EXPECT_EQ(E.QY[Row * 50 + Col], Col == Label ? 1.0f : 0.0f);
      EXPECT_EQ(E.SY[J * 50 + Label], 1.0f);
    }
  }
  // Too narrow to name every class.
  Shape.LabelWidth = 40;
  EXPECT_THROW(EpisodeSampler(Set, Split::Background, Shape), Error);
  // Evaluation episodes in wide rows: the way labels, then zeros.
  EpisodeShape Wide{3, 1, 1, false, 10, false};
  Episode E = sample(EpisodeSampler(Set, Split::Evaluation, Wide), 7);
  for (int Row = 0; Row < 3; ++Row) {
    float Sum = 0;
    for (int Col = 0; Col < 10; ++Col) {
      Sum += E.QY[Row * 10 + Col];
      if (Col >= 3)
        EXPECT_EQ(E.QY[Row * 10 + Col], 0.0f);
    }
    EXPECT_EQ(Sum, 1.0f);
  }
}

TEST(EpisodesTest, Errors) {
  ClassImageSet Set = syntheticSet(6);
  try {
    EpisodeSampler(Set, Split::Background, {13, 1, 1, false});
    FAIL();
  } catch (const Error &E) {
    EXPECT_STREQ(E.what(), "episodes: the background split has 12 classes, "
                           "fewer than 13-way");
  }
  try {
    EpisodeSampler(Set, Split::Background, {5, 5, 2, false});
    FAIL();
  } catch (const Error &E) {
    EXPECT_STREQ(E.what(), "episodes: class 'c0' of alphabet 'A' has 6 "
                           "images, fewer than 5 support + 2 query");
  }
  EXPECT_THROW(EpisodeSampler(Set, Split::Background, {0, 1, 1, false}), Error);
  // Exactly enough images is fine: every drawer is used once.
  EpisodeSampler S(Set, Split::Background, {12, 1, 5, false});
  Episode E = sample(S, 7);
  for (int J = 0; J < 12; ++J) {
    std::set<int> All(E.Info.SupportImages[J].begin(),
                      E.Info.SupportImages[J].end());
    All.insert(E.Info.QueryImages[J].begin(), E.Info.QueryImages[J].end());
    EXPECT_EQ(All.size(), 6u);
  }
}
