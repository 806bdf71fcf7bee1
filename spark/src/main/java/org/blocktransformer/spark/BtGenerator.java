package org.blocktransformer.spark;

import org.apache.spark.ml.Transformer;
import org.apache.spark.ml.param.BooleanParam;
import org.apache.spark.ml.param.DoubleParam;
import org.apache.spark.ml.param.IntParam;
import org.apache.spark.ml.param.LongParam;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.util.DefaultParamsReader;
import org.apache.spark.ml.util.DefaultParamsWritable;
import org.apache.spark.ml.util.Identifiable$;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.StructType;
import org.blocktransformer.model.backend.KvFormat;

/**
 * A Spark ML {@code Transformer} that continues a column of prompts (text, or arrays of token ids) with a Block
 * Transformer or GPT-NeoX model and appends the generated ids and text, finish reason, token counts and timings
 * (columns: {@link OutputColumns}). One engine per executor JVM, shared by its tasks; each partition's prompts are
 * submitted together. A row's output is what {@code bt generate} gives for the same prompt and seed, whatever
 * partition or executor it lands in (seeds: {@link GenerateSpec}).
 *
 * <pre>{@code
 * Dataset<Row> out = new BtGenerator()
 *         .setModel("/shared/models/my-checkpoint").setMaxNewTokens(64)
 *         .setTemperature(0.8).setTopP(0.95).setSeed(7).setRowIdCol("id")
 *         .transform(prompts);
 * }</pre>
 */
public final class BtGenerator extends Transformer implements DefaultParamsWritable {
    private static final long serialVersionUID = 1L;

    private final String uid;
    private final Param<String> model;
    private final LongParam initSeed;
    private final Param<String> weights;
    private final Param<String> tokenizer;
    private final IntParam batchSize;
    private final LongParam cacheMemory;
    private final IntParam threads;
    private final Param<String> backend;
    private final Param<String> device;
    private final Param<String> kvCache;
    private final Param<String> inputCol;
    private final Param<String> outputPrefix;
    private final IntParam maxNewTokens;
    private final BooleanParam ignoreEos;
    private final DoubleParam temperature;
    private final IntParam topK;
    private final DoubleParam topP;
    private final LongParam seed;
    private final Param<String> seedCol;
    private final Param<String> rowIdCol;
    private final Param<String> badPrompts;

    public BtGenerator() {
        this(Identifiable$.MODULE$.randomUID("btGenerator"));
    }

    /** Spark's copy and load make instances through this constructor. */
    public BtGenerator(String uid) {
        // The uid first: each Param reads its parent's uid when it is made.
        this.uid = uid;
        model = new Param<>(this, "model", "checkpoint directory (reachable from every executor) or preset name");
        initSeed = new LongParam(this, "initSeed", "seed of a preset's random weights (bt --init-seed)");
        weights = new Param<>(this, "weights", "weights in memory: f32, bf16 or f16");
        tokenizer = new Param<>(this, "tokenizer", "tokenizer.json (or its directory) for text prompts and output;"
                + " empty = the model directory's");
        batchSize = new IntParam(this, "batchSize", "most sequences an executor's engine decodes together");
        cacheMemory = new LongParam(this, "cacheMemory", "bytes of the executor's KV-cache pool; 0 = half the free"
                + " heap");
        threads = new IntParam(this, "threads", "CPU kernel threads per executor; 0 = all processors");
        backend = new Param<>(this, "backend", "auto, cpu or tornado");
        device = new Param<>(this, "device", "the backend's device (index or name fragment); empty = its first");
        kvCache = new Param<>(this, "kvCache", "KV-cache storage: f32 or f16");
        inputCol = new Param<>(this, "inputCol", "the prompt column: string (text) or array of integer token ids");
        outputPrefix = new Param<>(this, "outputPrefix", "put before every output column's name");
        maxNewTokens = new IntParam(this, "maxNewTokens", "tokens to generate per row, at most (required)");
        ignoreEos = new BooleanParam(this, "ignoreEos", "do not stop at the end-of-sequence token");
        temperature = new DoubleParam(this, "temperature", "0 = greedy; > 0 = seeded sampling");
        topK = new IntParam(this, "topK", "sample among the K most likely tokens; 0 = all");
        topP = new DoubleParam(this, "topP", "nucleus sampling probability in (0, 1]; 1 = all");
        seed = new LongParam(this, "seed", "base seed: a row's seed is seed + its row id (rowIdCol)");
        seedCol = new Param<>(this, "seedCol", "a column of per-row seeds (wins over seed + rowIdCol)");
        rowIdCol = new Param<>(this, "rowIdCol", "a column of stable row ids: seeds and error messages");
        badPrompts = new Param<>(this, "badPrompts", "fail (the job fails naming the row) or error-column");
        EngineSpec e = EngineSpec.of("-");
        setDefault(initSeed, e.initSeed());
        setDefault(weights, "f32");
        setDefault(tokenizer, "");
        setDefault(batchSize, e.batchSize());
        setDefault(cacheMemory, e.cacheMemoryBytes());
        setDefault(threads, e.threads());
        setDefault(backend, e.backend());
        setDefault(device, e.device());
        setDefault(kvCache, "f32");
        setDefault(inputCol, "prompt");
        setDefault(outputPrefix, "");
        setDefault(ignoreEos, false);
        setDefault(temperature, 0.0);
        setDefault(topK, 0);
        setDefault(topP, 1.0);
        setDefault(seed, 0L);
        setDefault(seedCol, "");
        setDefault(rowIdCol, "");
        setDefault(badPrompts, BadPromptPolicy.FAIL.label());
    }

    @Override
    public String uid() {
        return uid;
    }

    /** What the parameters amount to; fails with a message naming the first bad one. */
    public GenerateSpec spec() {
        if (!isDefined(model)) {
            throw new IllegalArgumentException("BtGenerator: set the model (setModel: a checkpoint directory or a"
                    + " preset name)");
        }
        if (!isDefined(maxNewTokens)) {
            throw new IllegalArgumentException("BtGenerator: set maxNewTokens (tokens to generate per row)");
        }
        EngineSpec engine = new EngineSpec(getModel(), getInitSeed(), EngineSpec.parseWeights(getWeights()),
                getTokenizer(), getBatchSize(), getCacheMemory(), getThreads(), getBackend(), getDevice(),
                KvFormat.parse(getKvCache()));
        SamplingSpec sampling = new SamplingSpec(getTemperature(), getTopK(), getTopP(), getSeed());
        return new GenerateSpec(engine, getInputCol(), getOutputPrefix(), getMaxNewTokens(), getIgnoreEos(), sampling,
                getSeedCol(), getRowIdCol(), BadPromptPolicy.parse(getBadPrompts()));
    }

    @Override
    public Dataset<Row> transform(Dataset<?> dataset) {
        return BtSpark.generate(dataset.toDF(), spec());
    }

    @Override
    public StructType transformSchema(StructType schema) {
        return OutputColumns.outputSchema(schema, spec());
    }

    @Override
    public BtGenerator copy(ParamMap extra) {
        return defaultCopy(extra);
    }

    public static MLReader<BtGenerator> read() {
        return new DefaultParamsReader<>();
    }

    public static BtGenerator load(String path) {
        return read().load(path);
    }

    // Spark finds a Transformer's parameters through its public no-argument methods that return a Param.

    public Param<String> model() { return model; }
    public LongParam initSeed() { return initSeed; }
    public Param<String> weights() { return weights; }
    public Param<String> tokenizer() { return tokenizer; }
    public IntParam batchSize() { return batchSize; }
    public LongParam cacheMemory() { return cacheMemory; }
    public IntParam threads() { return threads; }
    public Param<String> backend() { return backend; }
    public Param<String> device() { return device; }
    public Param<String> kvCache() { return kvCache; }
    public Param<String> inputCol() { return inputCol; }
    public Param<String> outputPrefix() { return outputPrefix; }
    public IntParam maxNewTokens() { return maxNewTokens; }
    public BooleanParam ignoreEos() { return ignoreEos; }
    public DoubleParam temperature() { return temperature; }
    public IntParam topK() { return topK; }
    public DoubleParam topP() { return topP; }
    public LongParam seed() { return seed; }
    public Param<String> seedCol() { return seedCol; }
    public Param<String> rowIdCol() { return rowIdCol; }
    public Param<String> badPrompts() { return badPrompts; }

    public String getModel() { return $(model); }
    public long getInitSeed() { return (Long) $(initSeed); }
    public String getWeights() { return $(weights); }
    public String getTokenizer() { return $(tokenizer); }
    public int getBatchSize() { return (Integer) $(batchSize); }
    public long getCacheMemory() { return (Long) $(cacheMemory); }
    public int getThreads() { return (Integer) $(threads); }
    public String getBackend() { return $(backend); }
    public String getDevice() { return $(device); }
    public String getKvCache() { return $(kvCache); }
    public String getInputCol() { return $(inputCol); }
    public String getOutputPrefix() { return $(outputPrefix); }
    public int getMaxNewTokens() { return (Integer) $(maxNewTokens); }
    public boolean getIgnoreEos() { return (Boolean) $(ignoreEos); }
    public double getTemperature() { return (Double) $(temperature); }
    public int getTopK() { return (Integer) $(topK); }
    public double getTopP() { return (Double) $(topP); }
    public long getSeed() { return (Long) $(seed); }
    public String getSeedCol() { return $(seedCol); }
    public String getRowIdCol() { return $(rowIdCol); }
    public String getBadPrompts() { return $(badPrompts); }

    public BtGenerator setModel(String v) { return (BtGenerator) set(model, v); }
    public BtGenerator setInitSeed(long v) { return (BtGenerator) set(initSeed, v); }
    public BtGenerator setWeights(String v) { return (BtGenerator) set(weights, v); }
    public BtGenerator setTokenizer(String v) { return (BtGenerator) set(tokenizer, v); }
    public BtGenerator setBatchSize(int v) { return (BtGenerator) set(batchSize, v); }
    public BtGenerator setCacheMemory(long bytes) { return (BtGenerator) set(cacheMemory, bytes); }
    public BtGenerator setThreads(int v) { return (BtGenerator) set(threads, v); }
    public BtGenerator setBackend(String v) { return (BtGenerator) set(backend, v); }
    public BtGenerator setDevice(String v) { return (BtGenerator) set(device, v); }
    public BtGenerator setKvCache(String v) { return (BtGenerator) set(kvCache, v); }
    public BtGenerator setInputCol(String v) { return (BtGenerator) set(inputCol, v); }
    public BtGenerator setOutputPrefix(String v) { return (BtGenerator) set(outputPrefix, v); }
    public BtGenerator setMaxNewTokens(int v) { return (BtGenerator) set(maxNewTokens, v); }
    public BtGenerator setIgnoreEos(boolean v) { return (BtGenerator) set(ignoreEos, v); }
    public BtGenerator setTemperature(double v) { return (BtGenerator) set(temperature, v); }
    public BtGenerator setTopK(int v) { return (BtGenerator) set(topK, v); }
    public BtGenerator setTopP(double v) { return (BtGenerator) set(topP, v); }
    public BtGenerator setSeed(long v) { return (BtGenerator) set(seed, v); }
    public BtGenerator setSeedCol(String v) { return (BtGenerator) set(seedCol, v); }
    public BtGenerator setRowIdCol(String v) { return (BtGenerator) set(rowIdCol, v); }
    public BtGenerator setBadPrompts(String v) { return (BtGenerator) set(badPrompts, v); }
}
