package org.blocktransformer.spark;

import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * The columns generation adds (each name after the spec's output prefix), in this order:
 * {@code generated_ids} (array of int: the new ids; an EOS that stopped generation is included, as in
 * {@code bt generate}), {@code generated_text} (their decoding; null without a tokenizer), {@code finish_reason}
 * ({@code length} or {@code eos}), {@code prompt_tokens}, {@code generated_tokens}, {@code queued_ms},
 * {@code first_token_ms}, {@code total_ms} (from the partition's submission), and with
 * {@link BadPromptPolicy#ERROR_COLUMN} {@code error} (null for good rows).
 */
final class OutputColumns {

    static final String IDS = "generated_ids";
    static final String TEXT = "generated_text";
    static final String FINISH = "finish_reason";
    static final String PROMPT_TOKENS = "prompt_tokens";
    static final String GENERATED_TOKENS = "generated_tokens";
    static final String QUEUED = "queued_ms";
    static final String FIRST_TOKEN = "first_token_ms";
    static final String TOTAL = "total_ms";
    static final String ERROR = "error";

    private OutputColumns() {
    }

    /** The input's schema with the output columns appended, after checking the input's prompt, seed and id columns. */
    static StructType outputSchema(StructType input, GenerateSpec spec) {
        promptKind(input, spec.inputCol());
        if (spec.seedCol() != null) {
            requireIntegral(input, spec.seedCol(), "seed column");
        }
        if (spec.rowIdCol() != null) {
            requireIntegral(input, spec.rowIdCol(), "row-id column");
        }
        StructType out = input;
        for (StructField f : fields(spec)) {
            if (List.of(input.fieldNames()).contains(f.name())) {
                throw new IllegalArgumentException("the input already has a column '" + f.name() + "', which"
                        + " generation adds: drop or rename it, or set an output prefix");
            }
            out = out.add(f);
        }
        return out;
    }

    static List<StructField> fields(GenerateSpec spec) {
        String p = spec.outputPrefix();
        List<StructField> f = new ArrayList<>();
        f.add(DataTypes.createStructField(p + IDS, DataTypes.createArrayType(DataTypes.IntegerType, false), true));
        f.add(DataTypes.createStructField(p + TEXT, DataTypes.StringType, true));
        f.add(DataTypes.createStructField(p + FINISH, DataTypes.StringType, true));
        f.add(DataTypes.createStructField(p + PROMPT_TOKENS, DataTypes.IntegerType, true));
        f.add(DataTypes.createStructField(p + GENERATED_TOKENS, DataTypes.IntegerType, true));
        f.add(DataTypes.createStructField(p + QUEUED, DataTypes.DoubleType, true));
        f.add(DataTypes.createStructField(p + FIRST_TOKEN, DataTypes.DoubleType, true));
        f.add(DataTypes.createStructField(p + TOTAL, DataTypes.DoubleType, true));
        if (spec.onBadPrompt() == BadPromptPolicy.ERROR_COLUMN) {
            f.add(DataTypes.createStructField(p + ERROR, DataTypes.StringType, true));
        }
        return f;
    }

    /** Whether the prompt column holds text (true) or token ids (false); anything else is refused. */
    static boolean promptKind(StructType input, String col) {
        DataType t = field(input, col, "prompt column").dataType();
        if (t.equals(DataTypes.StringType)) {
            return true;
        }
        if (t instanceof ArrayType a && isIntegral(a.elementType())) {
            return false;
        }
        throw new IllegalArgumentException("prompt column '" + col + "' has type " + t.simpleString()
                + "; expected string (text) or an array of integer token ids (array<int> or array<bigint>)");
    }

    private static void requireIntegral(StructType input, String col, String what) {
        DataType t = field(input, col, what).dataType();
        if (!isIntegral(t)) {
            throw new IllegalArgumentException(what + " '" + col + "' has type " + t.simpleString()
                    + "; expected an integer type (int or bigint)");
        }
    }

    private static StructField field(StructType input, String col, String what) {
        if (!List.of(input.fieldNames()).contains(col)) {
            throw new IllegalArgumentException(what + " '" + col + "' is not in the input; its columns: "
                    + String.join(", ", input.fieldNames()));
        }
        return input.apply(col);
    }

    static boolean isIntegral(DataType t) {
        return t.equals(DataTypes.IntegerType) || t.equals(DataTypes.LongType) || t.equals(DataTypes.ShortType)
                || t.equals(DataTypes.ByteType);
    }
}
