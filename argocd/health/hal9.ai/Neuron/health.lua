-- Argo CD health of a hal9.ai Neuron, from what the Hal9 operator writes: status.observedGeneration
-- and the conditions Ready, Progressing, Degraded and Paused (reasons in operator/src/status/reasons.ts).
-- Argo CD runs health scripts without Lua's string library: only base and table functions here.
local hs = { status = "Progressing", message = "Waiting for the Hal9 operator to reconcile the Neuron" }

local function condition(conditionType)
  if obj.status == nil or obj.status.conditions == nil then
    return nil
  end
  for _, c in ipairs(obj.status.conditions) do
    if c.type == conditionType then
      return c
    end
  end
  return nil
end

-- Ready=False reasons that need a change from the user, not more time.
local failures = {
  ClusterNotFound = true,
  ApplyFailed = true,
  RenderFailed = true,
  ReplicaFailure = true,
  ProgressDeadlineExceeded = true,
}

-- As the operator reads the annotation (isPaused): any value but "false" pauses ("true", "yes", "1").
-- Argo CD's sandbox has no string library, so "false" is matched in its three usual cases: a value
-- the operator also reads as false ("fAlse", " false") shows Suspended here. The annotation is read
-- before the Paused condition, so a pause shows at once, before the operator has written it.
local function pausedByAnnotation(annotations)
  if annotations == nil or annotations["hal9.ai/paused"] == nil then
    return false
  end
  local v = annotations["hal9.ai/paused"]
  return v ~= "false" and v ~= "False" and v ~= "FALSE"
end

-- Paused first: a paused Neuron keeps its old observedGeneration on purpose.
local paused = condition("Paused")
local progressing = condition("Progressing")
local annotations = obj.metadata.annotations
if (paused ~= nil and paused.status == "True")
    or (progressing ~= nil and progressing.reason == "Paused")
    or pausedByAnnotation(annotations) then
  hs.status = "Suspended"
  if paused ~= nil and paused.status == "True" and paused.message ~= nil then
    hs.message = paused.message
  else
    hs.message = "Reconciliation is paused by the hal9.ai/paused annotation"
  end
  return hs
end

if obj.status == nil or obj.status.conditions == nil then
  return hs
end

local generation = obj.metadata.generation
local observed = obj.status.observedGeneration
if generation ~= nil and (observed == nil or observed < generation) then
  hs.message = "Waiting for the Hal9 operator to observe generation " .. generation
  return hs
end

local degraded = condition("Degraded")
if degraded ~= nil and degraded.status == "True" then
  hs.status = "Degraded"
  hs.message = degraded.message
  return hs
end

local ready = condition("Ready")
if ready ~= nil and ready.status == "False" and failures[ready.reason] then
  hs.status = "Degraded"
  hs.message = ready.message
  return hs
end

if ready ~= nil and ready.status == "True" then
  -- Ready with a rollout still going on (old pods serving): like a Deployment, not healthy yet.
  if progressing ~= nil and progressing.status == "True" then
    hs.message = progressing.message
    return hs
  end
  hs.status = "Healthy"
  hs.message = ready.message
  return hs
end

if ready ~= nil and ready.message ~= nil then
  hs.message = ready.message
end
return hs
