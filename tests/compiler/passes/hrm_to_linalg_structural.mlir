// hrmc-opt hrm_to_linalg_structural.mlir --hrm-to-linalg --cse | FileCheck hrm_to_linalg_structural.mlir
// Input: `hrmc compile --emit=hrm --no-locations` of
//   model S { param table: [16, 8]; forward: x = embedding(table, tokens); a, b = split(x, [3, 5]);
//     c = concat([b, a], axis = 1); e = sum(reshape(reshape(c, [T, 2, 4]) * 2.0, [T, 4, 2]), axis = 2);
//     return concat([e, e, e, e], axis = 1); }
// Structural ops at backend stage 1: split → extract_slice, concat → an empty tensor made at the
// function's start with each piece inserted right after it is computed, reshapes that nest →
// expand/collapse_shape, and one that does not ([T, 2, 4] → [T, 4, 2]) through the flat [T, 8] form.
// Element-wise work and the sum become linalg.generic.
// CHECK-LABEL: func.func @forward
// CHECK: tensor.empty(%{{.*}}) : tensor<?x8xf32>
// CHECK: tensor.extract_slice %{{.*}}[0, 0] [%{{.*}}, 3] [1, 1] : tensor<?x8xf32> to tensor<?x3xf32>
// CHECK: tensor.insert_slice %{{.*}} into %{{.*}}[0, 5] [%{{.*}}, 3] [1, 1] : tensor<?x3xf32> into tensor<?x8xf32>
// CHECK: tensor.extract_slice %{{.*}}[0, 3] [%{{.*}}, 5] [1, 1] : tensor<?x8xf32> to tensor<?x5xf32>
// CHECK: tensor.insert_slice %{{.*}} into %{{.*}}[0, 0] [%{{.*}}, 5] [1, 1] : tensor<?x5xf32> into tensor<?x8xf32>
// CHECK: tensor.expand_shape %{{.*}} {{\[\[}}0], [1, 2]] output_shape [%{{.*}}, 2, 4] : tensor<?x8xf32> into tensor<?x2x4xf32>
// CHECK: linalg.generic
// CHECK: tensor.collapse_shape %{{.*}} {{\[\[}}0], [1, 2]] : tensor<?x2x4xf32> into tensor<?x8xf32>
// CHECK: tensor.expand_shape %{{.*}} {{\[\[}}0], [1, 2]] output_shape [%{{.*}}, 4, 2] : tensor<?x8xf32> into tensor<?x4x2xf32>
// CHECK-NOT: hrm.reshape
// CHECK-NOT: hrm.slice
// CHECK-NOT: hrm.concat
// CHECK: iterator_types = ["parallel", "parallel", "reduction"]
module @S {
  func.func @forward(%arg0: tensor<?xi32> {hrm.name = "tokens"}, %arg1: !hrm.packed_seq {hrm.name = "seq"}, %arg2: tensor<16x8xf32> {hrm.init = "zeros", hrm.name = "table"}) -> tensor<?x16xf32> {
    %0 = hrm.embedding %arg2[%arg0] : (tensor<16x8xf32>, tensor<?xi32>) -> tensor<?x8xf32>
    %1 = hrm.slice %0 {axis = 1 : i64, offset = 0 : i64, size = 3 : i64} : (tensor<?x8xf32>) -> tensor<?x3xf32>
    %2 = hrm.slice %0 {axis = 1 : i64, offset = 3 : i64, size = 5 : i64} : (tensor<?x8xf32>) -> tensor<?x5xf32>
    %3 = hrm.concat %2, %1 {axis = 1 : i64} : (tensor<?x5xf32>, tensor<?x3xf32>) -> tensor<?x8xf32>
    %4 = hrm.reshape %3 : (tensor<?x8xf32>) -> tensor<?x2x4xf32>
    %5 = hrm.constant 2.000000e+00 : tensor<f32>
    %6 = hrm.mul %4, %5 : (tensor<?x2x4xf32>, tensor<f32>) -> tensor<?x2x4xf32>
    %7 = hrm.reshape %6 : (tensor<?x2x4xf32>) -> tensor<?x4x2xf32>
    %8 = hrm.sum %7 {axis = 2 : i64} : (tensor<?x4x2xf32>) -> tensor<?x4xf32>
    %9 = hrm.concat %8, %8, %8, %8 {axis = 1 : i64} : (tensor<?x4xf32>, tensor<?x4xf32>, tensor<?x4xf32>, tensor<?x4xf32>) -> tensor<?x16xf32>
    return %9 : tensor<?x16xf32>
  }
}
